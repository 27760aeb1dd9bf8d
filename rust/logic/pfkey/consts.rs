//! PF_KEY v2 numbers (`linux/pfkeyv2.h`, `linux/ipsec.h`, KAME) and the
//! errno values the codec and af_key's handlers return.

use core::fmt;

/// A positive errno value (`EINVAL` is `Errno(22)`); the kernel returns its
/// negation, PF_KEY puts it in `sadb_msg_errno`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Errno(pub i32);

impl Errno {
    /// Operation not permitted.
    pub const EPERM: Errno = Errno(1);
    /// No such entry.
    pub const ENOENT: Errno = Errno(2);
    /// No such SA/process.
    pub const ESRCH: Errno = Errno(3);
    /// Interrupted (what af_key reports for restarted syscalls).
    pub const EINTR: Errno = Errno(4);
    /// Try again.
    pub const EAGAIN: Errno = Errno(11);
    /// Out of memory.
    pub const ENOMEM: Errno = Errno(12);
    /// Bad user address.
    pub const EFAULT: Errno = Errno(14);
    /// A dump is already running.
    pub const EBUSY: Errno = Errno(16);
    /// Already exists.
    pub const EEXIST: Errno = Errno(17);
    /// Invalid argument: af_key's answer to almost any malformed message.
    pub const EINVAL: Errno = Errno(22);
    /// Algorithm id unknown to the kernel.
    pub const ENOSYS: Errno = Errno(38);
    /// More templates than `XFRM_MAX_DEPTH`.
    pub const ELOOP: Errno = Errno(40);
    /// Message too long / header length inconsistent.
    pub const EMSGSIZE: Errno = Errno(90);
    /// MIGRATE without CONFIG_NET_KEY_MIGRATE.
    pub const ENOPROTOOPT: Errno = Errno(92);
    /// Protocol not supported.
    pub const EPROTONOSUPPORT: Errno = Errno(93);
    /// Socket type not supported.
    pub const ESOCKTNOSUPPORT: Errno = Errno(94);
    /// Message type without a handler.
    pub const EOPNOTSUPP: Errno = Errno(95);
    /// No buffer space (skb allocation, reply too large).
    pub const ENOBUFS: Errno = Errno(105);

    /// The kernel-style return value (`-errno`).
    pub const fn to_kernel(self) -> i32 {
        -self.0
    }

    /// The `sadb_msg_errno` byte af_key's `pfkey_error` would send: the
    /// restart codes become `EINTR`, anything not fitting a byte `EINVAL`.
    pub fn to_wire(self) -> u8 {
        match self.0 {
            512..=514 => Self::EINTR.0 as u8,
            1..=255 => self.0 as u8,
            _ => Self::EINVAL.0 as u8,
        }
    }
}

impl From<crate::seam::AllocError> for Errno {
    fn from(_: crate::seam::AllocError) -> Self {
        Errno::ENOMEM
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "errno {}", self.0)
    }
}

/// `sadb_msg_version`.
pub const PF_KEY_V2: u8 = 2;
/// RFC 2367's revision stamp.
pub const PFKEYV2_REVISION: u32 = 199806;
/// PF_KEY lengths count 64-bit words.
pub const PFKEY_ALIGN: usize = 8;

// --- message types ---
/// Reserved message type (rejected).
pub const SADB_RESERVED: u8 = 0;
/// Allocate an SPI.
pub const SADB_GETSPI: u8 = 1;
/// Complete a larval SA.
pub const SADB_UPDATE: u8 = 2;
/// Add an SA.
pub const SADB_ADD: u8 = 3;
/// Delete an SA.
pub const SADB_DELETE: u8 = 4;
/// Look an SA up.
pub const SADB_GET: u8 = 5;
/// Kernel asks a key manager for an SA.
pub const SADB_ACQUIRE: u8 = 6;
/// Register as key manager.
pub const SADB_REGISTER: u8 = 7;
/// SA lifetime expired.
pub const SADB_EXPIRE: u8 = 8;
/// Delete all SAs.
pub const SADB_FLUSH: u8 = 9;
/// List SAs.
pub const SADB_DUMP: u8 = 10;
/// Promiscuous listening.
pub const SADB_X_PROMISC: u8 = 11;
/// KAME policy change (no Linux handler).
pub const SADB_X_PCHANGE: u8 = 12;
/// Replace a policy.
pub const SADB_X_SPDUPDATE: u8 = 13;
/// Add a policy.
pub const SADB_X_SPDADD: u8 = 14;
/// Delete a policy by selector.
pub const SADB_X_SPDDELETE: u8 = 15;
/// Get a policy by id.
pub const SADB_X_SPDGET: u8 = 16;
/// KAME policy acquire (no Linux handler).
pub const SADB_X_SPDACQUIRE: u8 = 17;
/// List policies.
pub const SADB_X_SPDDUMP: u8 = 18;
/// Delete all policies.
pub const SADB_X_SPDFLUSH: u8 = 19;
/// Add a policy (KAME "set index").
pub const SADB_X_SPDSETIDX: u8 = 20;
/// Policy expired (no Linux handler).
pub const SADB_X_SPDEXPIRE: u8 = 21;
/// Delete a policy by id.
pub const SADB_X_SPDDELETE2: u8 = 22;
/// NAT-T peer moved (kernel to user only).
pub const SADB_X_NAT_T_NEW_MAPPING: u8 = 23;
/// Move SAs/policies to new endpoints.
pub const SADB_X_MIGRATE: u8 = 24;
/// Highest message type.
pub const SADB_MAX: u8 = 24;

// --- SA flags (sadb_sa_flags) ---
/// Perfect forward secrecy.
pub const SADB_SAFLAGS_PFS: u32 = 1;
/// Linux: do not do PMTU discovery.
pub const SADB_SAFLAGS_NOPMTUDISC: u32 = 0x2000_0000;
/// Linux: copy DSCP on decapsulation.
pub const SADB_SAFLAGS_DECAP_DSCP: u32 = 0x4000_0000;
/// Linux: no ECN propagation.
pub const SADB_SAFLAGS_NOECN: u32 = 0x8000_0000;
/// FreeBSD (also rxfrm, and `setkey -f esn`): 64-bit extended sequence
/// numbers (RFC 4303 §2.2.1). Neither RFC 2367 nor Linux af_key has one.
pub const SADB_X_SAFLAGS_ESN: u32 = 0x0400;
/// KAME: cyclic sequence numbers (setkey's default flag, ignored by Linux).
pub const SADB_X_EXT_CYCSEQ: u32 = 0x0040;
/// KAME: old (RFC 1827/1829) format.
pub const SADB_X_EXT_OLD: u32 = 0x0001;
/// KAME: 4-byte IV (setkey's `des-32iv`, old ESP only).
pub const SADB_X_EXT_IV4B: u32 = 0x0010;
/// KAME: derived IV (setkey's `des-deriv`, draft-ietf-ipsec-ciph-des-derived).
pub const SADB_X_EXT_DERIV: u32 = 0x0020;
/// KAME: IPComp sends the SPI as the CPI (setkey's `-R`); without it KAME
/// sends the algorithm's well-known CPI. Linux (and rxfrm) always send the
/// SPI and ignore the flag.
pub const SADB_X_EXT_RAWCPI: u32 = 0x0080;
/// KAME: random padding.
pub const SADB_X_EXT_PRAND: u32 = 0x0100;
/// KAME: zero padding.
pub const SADB_X_EXT_PZERO: u32 = 0x0200;

// --- SA states ---
/// Being negotiated.
pub const SADB_SASTATE_LARVAL: u8 = 0;
/// Usable.
pub const SADB_SASTATE_MATURE: u8 = 1;
/// Soft lifetime expired.
pub const SADB_SASTATE_DYING: u8 = 2;
/// Hard lifetime expired.
pub const SADB_SASTATE_DEAD: u8 = 3;
/// Highest state.
pub const SADB_SASTATE_MAX: u8 = 3;

// --- SA types ---
/// Any SA type.
pub const SADB_SATYPE_UNSPEC: u8 = 0;
/// AH.
pub const SADB_SATYPE_AH: u8 = 2;
/// ESP.
pub const SADB_SATYPE_ESP: u8 = 3;
/// RSVP (unsupported).
pub const SADB_SATYPE_RSVP: u8 = 5;
/// OSPFv2 (unsupported).
pub const SADB_SATYPE_OSPFV2: u8 = 6;
/// RIPv2 (unsupported).
pub const SADB_SATYPE_RIPV2: u8 = 7;
/// Mobile IP (unsupported).
pub const SADB_SATYPE_MIP: u8 = 8;
/// IPComp.
pub const SADB_X_SATYPE_IPCOMP: u8 = 9;
/// Highest SA type.
pub const SADB_SATYPE_MAX: u8 = 9;

// --- authentication algorithms ---
/// No authentication.
pub const SADB_AALG_NONE: u8 = 0;
/// HMAC-MD5-96.
pub const SADB_AALG_MD5HMAC: u8 = 2;
/// HMAC-SHA1-96.
pub const SADB_AALG_SHA1HMAC: u8 = 3;
/// HMAC-SHA2-256.
pub const SADB_X_AALG_SHA2_256HMAC: u8 = 5;
/// HMAC-SHA2-384.
pub const SADB_X_AALG_SHA2_384HMAC: u8 = 6;
/// HMAC-SHA2-512.
pub const SADB_X_AALG_SHA2_512HMAC: u8 = 7;
/// HMAC-RIPEMD160.
pub const SADB_X_AALG_RIPEMD160HMAC: u8 = 8;
/// AES-XCBC-MAC-96.
pub const SADB_X_AALG_AES_XCBC_MAC: u8 = 9;
/// HMAC-SM3.
pub const SADB_X_AALG_SM3_256HMAC: u8 = 10;
/// KAME keyed MD5 (no Linux implementation).
pub const SADB_X_AALG_MD5: u8 = 249;
/// KAME keyed SHA1 (no Linux implementation).
pub const SADB_X_AALG_SHA: u8 = 250;
/// KAME null authentication.
pub const SADB_X_AALG_NULL: u8 = 251;
/// Highest auth id af_key accepts.
pub const SADB_AALG_MAX: u8 = 251;
/// KAME/FreeBSD TCP-MD5 signatures (RFC 2385); above Linux's maximum.
pub const SADB_X_AALG_TCP_MD5: u8 = 252;
/// rxfrm: AES-CMAC-96 (RFC 4494). Linux's xfrm has `cmac(aes)` without an
/// SADB id, and no IANA registry that SADB ids follow has one (IKEv2's
/// integrity id 8 is SADB's RIPEMD160): rxfrm takes the first free value
/// of RFC 2407's private range 249..=255 after KAME's 249-252.
pub const SADB_X_AALG_AES_CMAC: u8 = 253;

// --- encryption algorithms ---
/// No encryption.
pub const SADB_EALG_NONE: u8 = 0;
/// DES-CBC.
pub const SADB_EALG_DESCBC: u8 = 2;
/// 3DES-CBC.
pub const SADB_EALG_3DESCBC: u8 = 3;
/// CAST-128-CBC.
pub const SADB_X_EALG_CASTCBC: u8 = 6;
/// Blowfish-CBC.
pub const SADB_X_EALG_BLOWFISHCBC: u8 = 7;
/// NULL encryption.
pub const SADB_EALG_NULL: u8 = 11;
/// AES-CBC.
pub const SADB_X_EALG_AESCBC: u8 = 12;
/// AES-CTR (RFC 3686).
pub const SADB_X_EALG_AESCTR: u8 = 13;
/// AES-CCM, 8-byte ICV.
pub const SADB_X_EALG_AES_CCM_ICV8: u8 = 14;
/// AES-CCM, 12-byte ICV.
pub const SADB_X_EALG_AES_CCM_ICV12: u8 = 15;
/// AES-CCM, 16-byte ICV.
pub const SADB_X_EALG_AES_CCM_ICV16: u8 = 16;
/// AES-GCM, 8-byte ICV.
pub const SADB_X_EALG_AES_GCM_ICV8: u8 = 18;
/// AES-GCM, 12-byte ICV.
pub const SADB_X_EALG_AES_GCM_ICV12: u8 = 19;
/// AES-GCM, 16-byte ICV.
pub const SADB_X_EALG_AES_GCM_ICV16: u8 = 20;
/// Camellia-CBC.
pub const SADB_X_EALG_CAMELLIACBC: u8 = 22;
/// NULL encryption with AES-GMAC (RFC 4543).
pub const SADB_X_EALG_NULL_AES_GMAC: u8 = 23;
/// SM4-CBC.
pub const SADB_X_EALG_SM4CBC: u8 = 24;
/// ChaCha20-Poly1305: IANA's ESP id; rxfrm-only, Linux af_key lacks it.
pub const SADB_X_EALG_CHACHA20_POLY1305: u8 = 28;
/// Serpent-CBC.
pub const SADB_X_EALG_SERPENTCBC: u8 = 252;
/// Twofish-CBC.
pub const SADB_X_EALG_TWOFISHCBC: u8 = 253;
/// KAME RC5-CBC (IANA's ESP_RC5; no Linux implementation).
pub const SADB_X_EALG_RC5CBC: u8 = 4;
/// Highest encryption id af_key accepts.
pub const SADB_EALG_MAX: u8 = 253;

// --- compression algorithms ---
/// No compression.
pub const SADB_X_CALG_NONE: u8 = 0;
/// OUI.
pub const SADB_X_CALG_OUI: u8 = 1;
/// DEFLATE.
pub const SADB_X_CALG_DEFLATE: u8 = 2;
/// LZS.
pub const SADB_X_CALG_LZS: u8 = 3;
/// LZJH.
pub const SADB_X_CALG_LZJH: u8 = 4;
/// Highest compression id.
pub const SADB_X_CALG_MAX: u8 = 4;

// --- extension types ---
/// Reserved (rejected).
pub const SADB_EXT_RESERVED: u16 = 0;
/// `sadb_sa`.
pub const SADB_EXT_SA: u16 = 1;
/// Current lifetime.
pub const SADB_EXT_LIFETIME_CURRENT: u16 = 2;
/// Hard lifetime.
pub const SADB_EXT_LIFETIME_HARD: u16 = 3;
/// Soft lifetime.
pub const SADB_EXT_LIFETIME_SOFT: u16 = 4;
/// Source address.
pub const SADB_EXT_ADDRESS_SRC: u16 = 5;
/// Destination address.
pub const SADB_EXT_ADDRESS_DST: u16 = 6;
/// Proxy (inner source) address.
pub const SADB_EXT_ADDRESS_PROXY: u16 = 7;
/// Authentication key.
pub const SADB_EXT_KEY_AUTH: u16 = 8;
/// Encryption key.
pub const SADB_EXT_KEY_ENCRYPT: u16 = 9;
/// Source identity.
pub const SADB_EXT_IDENTITY_SRC: u16 = 10;
/// Destination identity.
pub const SADB_EXT_IDENTITY_DST: u16 = 11;
/// Sensitivity.
pub const SADB_EXT_SENSITIVITY: u16 = 12;
/// Proposal.
pub const SADB_EXT_PROPOSAL: u16 = 13;
/// Supported auth algorithms.
pub const SADB_EXT_SUPPORTED_AUTH: u16 = 14;
/// Supported encryption algorithms.
pub const SADB_EXT_SUPPORTED_ENCRYPT: u16 = 15;
/// SPI range.
pub const SADB_EXT_SPIRANGE: u16 = 16;
/// Key-manager private data.
pub const SADB_X_EXT_KMPRIVATE: u16 = 17;
/// Policy.
pub const SADB_X_EXT_POLICY: u16 = 18;
/// Mode, reqid, sequence.
pub const SADB_X_EXT_SA2: u16 = 19;
/// NAT-T encapsulation type.
pub const SADB_X_EXT_NAT_T_TYPE: u16 = 20;
/// NAT-T source port.
pub const SADB_X_EXT_NAT_T_SPORT: u16 = 21;
/// NAT-T destination port.
pub const SADB_X_EXT_NAT_T_DPORT: u16 = 22;
/// NAT-T original address.
pub const SADB_X_EXT_NAT_T_OA: u16 = 23;
/// LSM security context.
pub const SADB_X_EXT_SEC_CTX: u16 = 24;
/// MIGRATE: key-manager addresses.
pub const SADB_X_EXT_KMADDRESS: u16 = 25;
/// DUMP filter.
pub const SADB_X_EXT_FILTER: u16 = 26;
/// Highest extension type (higher ones are skipped, as on Linux).
pub const SADB_EXT_MAX: u16 = 26;
/// rxfrm: an SA's error counters (`SadbXRxfrmStats`), added to GET and DUMP
/// answers only when the request carried an (empty) extension of this
/// type. Clients that reject unknown extension types (libipsec, charon)
/// never ask, so never see it; Linux af_key skips it in a request, so
/// asking is harmless there.
pub const SADB_X_EXT_RXFRM_STATS: u16 = 0x00f0;

// --- identity types ---
/// Reserved.
pub const SADB_IDENTTYPE_RESERVED: u16 = 0;
/// Address prefix.
pub const SADB_IDENTTYPE_PREFIX: u16 = 1;
/// Fully-qualified domain name.
pub const SADB_IDENTTYPE_FQDN: u16 = 2;
/// user@FQDN.
pub const SADB_IDENTTYPE_USERFQDN: u16 = 3;
/// Highest identity type.
pub const SADB_IDENTTYPE_MAX: u16 = 3;

// --- linux/ipsec.h ---
/// Any port.
pub const IPSEC_PORT_ANY: u16 = 0;
/// Any upper-layer protocol (`sadb_address_proto`).
pub const IPSEC_ULPROTO_ANY: u8 = 255;
/// Any IPsec protocol.
pub const IPSEC_PROTO_ANY: u8 = 255;
/// Mode: any (Linux treats as transport).
pub const IPSEC_MODE_ANY: u8 = 0;
/// Mode: transport.
pub const IPSEC_MODE_TRANSPORT: u8 = 1;
/// Mode: tunnel.
pub const IPSEC_MODE_TUNNEL: u8 = 2;
/// Mode: BEET.
pub const IPSEC_MODE_BEET: u8 = 3;
/// Direction: any.
pub const IPSEC_DIR_ANY: u8 = 0;
/// Direction: inbound.
pub const IPSEC_DIR_INBOUND: u8 = 1;
/// Direction: outbound.
pub const IPSEC_DIR_OUTBOUND: u8 = 2;
/// Direction: forward (Linux).
pub const IPSEC_DIR_FWD: u8 = 3;
/// One past the highest direction.
pub const IPSEC_DIR_MAX: u8 = 4;
/// Invalid direction.
pub const IPSEC_DIR_INVALID: u8 = 5;
/// Policy: drop.
pub const IPSEC_POLICY_DISCARD: u16 = 0;
/// Policy: pass in clear.
pub const IPSEC_POLICY_NONE: u16 = 1;
/// Policy: apply IPsec.
pub const IPSEC_POLICY_IPSEC: u16 = 2;
/// Policy: consult the system policy (socket policies only).
pub const IPSEC_POLICY_ENTRUST: u16 = 3;
/// Policy: bypass (socket policies only).
pub const IPSEC_POLICY_BYPASS: u16 = 4;
/// Level: system default.
pub const IPSEC_LEVEL_DEFAULT: u8 = 0;
/// Level: use an SA if there is one.
pub const IPSEC_LEVEL_USE: u8 = 1;
/// Level: require an SA.
pub const IPSEC_LEVEL_REQUIRE: u8 = 2;
/// Level: require an SA of this request's own reqid.
pub const IPSEC_LEVEL_UNIQUE: u8 = 3;
/// Highest reqid a user may pick; above it the kernel allocates.
pub const IPSEC_MANUAL_REQID_MAX: u32 = 0x3fff;
/// Default replay window.
pub const IPSEC_REPLAYWSIZE: u8 = 32;

// --- what Linux's handlers compare against ---
/// Largest IPComp CPI (RFC 3173: 16 bits, carried in the SPI field).
pub const IPCOMP_CPI_MAX: u32 = 0xffff;
/// Most templates one policy may carry.
pub const XFRM_MAX_DEPTH: usize = 6;
/// AH's IP protocol number.
pub const IPPROTO_AH: u8 = 51;
/// ESP's IP protocol number.
pub const IPPROTO_ESP: u8 = 50;
/// IPComp's IP protocol number.
pub const IPPROTO_COMP: u8 = 108;
/// IPv6 routing header (MIPv6 templates).
pub const IPPROTO_ROUTING: u8 = 43;
/// IPv6 destination options (MIPv6 templates).
pub const IPPROTO_DSTOPTS: u8 = 60;
/// NAT-T type: ESP in UDP (RFC 3948).
pub const UDP_ENCAP_ESPINUDP: u8 = 2;
/// af_key's limit on a security context (`PAGE_SIZE`).
pub const SEC_CTX_MAX: usize = 4096;

/// The IP protocol of an SA type as af_key's `pfkey_satype2proto` maps it
/// (UNSPEC is `IPSEC_PROTO_ANY`; 0 means unsupported).
pub fn satype_to_proto(satype: u8) -> u8 {
    match satype {
        SADB_SATYPE_UNSPEC => IPSEC_PROTO_ANY,
        SADB_SATYPE_AH => IPPROTO_AH,
        SADB_SATYPE_ESP => IPPROTO_ESP,
        SADB_X_SATYPE_IPCOMP => IPPROTO_COMP,
        _ => 0,
    }
}

/// The SA type of an IP protocol (`pfkey_proto2satype`; 0 if none).
pub fn proto_to_satype(proto: u8) -> u8 {
    match proto {
        IPPROTO_AH => SADB_SATYPE_AH,
        IPPROTO_ESP => SADB_SATYPE_ESP,
        IPPROTO_COMP => SADB_X_SATYPE_IPCOMP,
        _ => 0,
    }
}

/// Symbolic name of a message type, for diagnostics.
pub fn msg_type_name(t: u8) -> Option<&'static str> {
    const NAMES: [&str; 25] = [
        "RESERVED",
        "GETSPI",
        "UPDATE",
        "ADD",
        "DELETE",
        "GET",
        "ACQUIRE",
        "REGISTER",
        "EXPIRE",
        "FLUSH",
        "DUMP",
        "X_PROMISC",
        "X_PCHANGE",
        "X_SPDUPDATE",
        "X_SPDADD",
        "X_SPDDELETE",
        "X_SPDGET",
        "X_SPDACQUIRE",
        "X_SPDDUMP",
        "X_SPDFLUSH",
        "X_SPDSETIDX",
        "X_SPDEXPIRE",
        "X_SPDDELETE2",
        "X_NAT_T_NEW_MAPPING",
        "X_MIGRATE",
    ];
    NAMES.get(usize::from(t)).copied()
}

/// The smallest length af_key accepts for each extension type
/// (`sadb_ext_min_len`), indexed by type.
pub(crate) const EXT_MIN_LEN: [u8; SADB_EXT_MAX as usize + 1] = [
    0,  // reserved
    16, // sa
    32, 32, 32, // lifetimes
    8, 8, 8, // addresses
    8, 8, // keys
    16, 16, // identities
    16, // sensitivity
    8,  // proposal
    8, 8,  // supported
    16, // spirange
    8,  // kmprivate
    16, // policy
    16, // sa2
    8,  // nat_t_type
    8, 8,  // nat_t ports
    8,  // nat_t_oa
    8,  // sec_ctx
    8,  // kmaddress
    40, // filter
];

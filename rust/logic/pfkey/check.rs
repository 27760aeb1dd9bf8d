//! What each af_key handler checks of a message before it touches the
//! SAD/SPD (RFC 2367 §3.1's required extensions, with Linux's errnos and
//! in Linux's order). Checks that need state (lookups, `EEXIST`, `EBUSY`,
//! reqid allocation) are the caller's.

use super::consts::*;
use super::ext::SadbXIpsecrequest;
use super::parse::Parsed;
use super::sockaddr::parse_sockaddr_pair;
use super::Errno;
use crate::logic::algs::{self, AlgKind};

/// Checks `p` as the handler for `msg_type` would (normally
/// `p.msg_type()`; a caller may pass another, e.g. to check an UPDATE as an
/// ADD). Types without a Linux handler (EXPIRE, X_PCHANGE, X_SPDACQUIRE,
/// X_SPDEXPIRE, X_NAT_T_NEW_MAPPING, RESERVED) give `EOPNOTSUPP`.
///
/// Beyond Linux, for ADD/UPDATE: key lengths are checked against the
/// algorithm table (Linux gets the same `EINVAL` later from the crypto
/// API), an AEAD may not be paired with an auth algorithm, and
/// ChaCha20-Poly1305 (id 28) and AES-CMAC (auth id 253) are accepted.
/// What af_key takes and then silently ignores is refused with `EINVAL`
/// (see `check_transform`): an AH SA naming a cipher or the null MAC, an
/// IPComp SA naming a MAC or a CPI above 16 bits, and KAME's old-format
/// flags.
pub fn check_required(msg_type: u8, p: &Parsed<'_>) -> Result<(), Errno> {
    let satype = p.satype();
    match msg_type {
        SADB_GETSPI => check_getspi(p),
        SADB_ADD | SADB_UPDATE => check_add(p),
        SADB_DELETE | SADB_GET => {
            if !p.has(SADB_EXT_SA) || !same_family(p) {
                return Err(Errno::EINVAL);
            }
            // pfkey_xfrm_state_lookup finds nothing for other SA types.
            if !matches!(
                satype,
                SADB_SATYPE_AH | SADB_SATYPE_ESP | SADB_X_SATYPE_IPCOMP
            ) {
                return Err(Errno::ESRCH);
            }
            Ok(())
        }
        SADB_ACQUIRE => {
            // Only the header-only "negotiation failed" form is accepted.
            if p.len_words() != 2 {
                return Err(Errno::EOPNOTSUPP);
            }
            Ok(())
        }
        SADB_REGISTER if satype > SADB_SATYPE_MAX => Err(Errno::EINVAL),
        SADB_REGISTER => Ok(()),
        SADB_FLUSH if satype_to_proto(satype) == 0 => Err(Errno::EINVAL),
        SADB_FLUSH => Ok(()),
        SADB_DUMP => {
            if satype_to_proto(satype) == 0 {
                return Err(Errno::EINVAL);
            }
            match p.filter() {
                Some(f) if f.splen > 128 || f.dplen > 128 => Err(Errno::EINVAL),
                _ => Ok(()),
            }
        }
        SADB_X_PROMISC => {
            if p.len_words() == 2 && satype > 1 {
                return Err(Errno::EINVAL);
            }
            Ok(())
        }
        SADB_X_SPDUPDATE | SADB_X_SPDADD | SADB_X_SPDSETIDX => check_spdadd(p),
        SADB_X_SPDDELETE => {
            let pol = match p.policy() {
                Some(pol) if same_family(p) => pol,
                _ => return Err(Errno::EINVAL),
            };
            if pol.dir == 0 || pol.dir >= IPSEC_DIR_MAX {
                return Err(Errno::EINVAL);
            }
            Ok(())
        }
        SADB_X_SPDGET | SADB_X_SPDDELETE2 => {
            let pol = p.policy().ok_or(Errno::EINVAL)?;
            // xfrm_policy_id2dir(): the direction lives in the id's low bits.
            if pol.id & 7 >= 3 {
                return Err(Errno::EINVAL);
            }
            Ok(())
        }
        SADB_X_SPDDUMP | SADB_X_SPDFLUSH => Ok(()),
        SADB_X_MIGRATE => check_migrate(p),
        _ => Err(Errno::EOPNOTSUPP),
    }
}

/// `present_and_same_family`: both SA addresses there, one family, and
/// that family IPv4 or IPv6 (parse has checked the latter).
fn same_family(p: &Parsed<'_>) -> bool {
    match (p.address_src(), p.address_dst()) {
        (Some(s), Some(d)) => s.family() == d.family(),
        _ => false,
    }
}

fn check_getspi(p: &Parsed<'_>) -> Result<(), Errno> {
    if !same_family(p) {
        return Err(Errno::EINVAL);
    }
    let proto = satype_to_proto(p.satype());
    if proto == 0 {
        return Err(Errno::EINVAL);
    }
    if let Some(sa2) = p.sa2() {
        if sa2.mode > IPSEC_MODE_BEET {
            return Err(Errno::EINVAL);
        }
    }
    // verify_spi_info, with af_key's default range when none is given.
    let (min, max) = p
        .spirange()
        .map_or((0x100, 0x0fff_ffff), |r| (r.min, r.max));
    match proto {
        IPPROTO_AH | IPPROTO_ESP => {}
        IPPROTO_COMP if max < 0x1_0000 => {}
        _ => return Err(Errno::EINVAL),
    }
    if min > max {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// `pfkey_msg2xfrm_state`'s checks, then the algorithm/key checks
/// `xfrm_init_state` would fail.
fn check_add(p: &Parsed<'_>) -> Result<(), Errno> {
    let satype = p.satype();
    let sa = match p.sa() {
        Some(sa) if same_family(p) => sa,
        _ => return Err(Errno::EINVAL),
    };
    let (key_a, key_e) = (p.key_auth(), p.key_encrypt());
    if (satype == SADB_SATYPE_ESP && key_e.is_none())
        || (satype == SADB_SATYPE_AH && key_a.is_none())
        || p.has(SADB_EXT_LIFETIME_HARD) != p.has(SADB_EXT_LIFETIME_SOFT)
    {
        return Err(Errno::EINVAL);
    }
    let proto = satype_to_proto(satype);
    if proto == 0 {
        return Err(Errno::EINVAL);
    }
    let ipcomp = satype == SADB_X_SATYPE_IPCOMP;
    if (sa.auth > SADB_AALG_MAX && sa.auth != SADB_X_AALG_AES_CMAC)
        || (ipcomp && sa.encrypt > SADB_X_CALG_MAX)
        || sa.encrypt > SADB_EALG_MAX
    {
        return Err(Errno::EINVAL);
    }
    if matches!(key_a, Some(k) if sa.auth != SADB_X_AALG_NULL && k.bits == 0)
        || matches!(key_e, Some(k) if sa.encrypt != SADB_EALG_NULL && k.bits == 0)
    {
        return Err(Errno::EINVAL);
    }
    let implemented = |kind, id| match algs::by_id(kind, id) {
        Some(a) if a.implemented() => Ok(a),
        _ => Err(Errno::ENOSYS),
    };
    let auth = match sa.auth {
        0 => None,
        id => Some(implemented(AlgKind::Auth, id)?),
    };
    let enc = match sa.encrypt {
        0 => None,
        id if ipcomp => Some(implemented(AlgKind::Compress, id)?),
        id => Some(implemented(AlgKind::Encrypt, id)?),
    };
    if let Some(sa2) = p.sa2() {
        if sa2.mode > IPSEC_MODE_BEET {
            return Err(Errno::EINVAL);
        }
    }
    // xfrm_init_state: UNSPEC maps to IPSEC_PROTO_ANY, which has no type.
    if proto == IPSEC_PROTO_ANY {
        return Err(Errno::EPROTONOSUPPORT);
    }
    // esp/ah/ipcomp init_state: the transform needs its algorithm (and AH
    // and IPComp cannot be UDP-encapsulated).
    match satype {
        SADB_SATYPE_ESP if enc.is_none() => return Err(Errno::EINVAL),
        SADB_SATYPE_ESP if enc.is_some_and(|e| e.aead) && auth.is_some() => {
            return Err(Errno::EINVAL)
        }
        SADB_SATYPE_AH if auth.is_none() || p.has(SADB_X_EXT_NAT_T_TYPE) => {
            return Err(Errno::EINVAL)
        }
        SADB_X_SATYPE_IPCOMP if enc.is_none() || p.has(SADB_X_EXT_NAT_T_TYPE) => {
            return Err(Errno::EINVAL)
        }
        _ => {}
    }
    let key_ok = |alg: Option<&algs::AlgDesc>, key: Option<super::KeyRepr<'_>>| match alg {
        Some(a) if !ipcomp => a.key_bits_ok(key.map_or(0, |k| k.bits)),
        _ => true,
    };
    if !key_ok(auth, key_a) || !key_ok(enc, key_e) {
        return Err(Errno::EINVAL);
    }
    check_transform(satype, sa.spi, sa.auth, sa.encrypt, sa.flags)
}

/// SA flags that ask for a wire format rxfrm does not implement: the 4-byte
/// IV of old DES (`des-32iv`) and the derived IV (`des-deriv`). af_key
/// ignores them and builds an RFC 4303 SA, which cannot talk to the peer
/// asked for. KAME's `SADB_X_EXT_OLD` (`esp-old`/`ah-old`) is not among
/// them: it is bit 0, which RFC 2367 defines as `SADB_SAFLAGS_PFS` and IKE
/// daemons may set, so it is ignored as af_key ignores it (the SA is RFC
/// 4302/4303).
pub const OLD_FORMAT_FLAGS: u32 = SADB_X_EXT_IV4B | SADB_X_EXT_DERIV;

/// What rxfrm refuses where af_key accepts and the transform then ignores
/// part of the request, so that an SA never silently protects less than it
/// was asked to. Each is `EINVAL`, as xfrm_user's `verify_newsa_info`
/// answers the same requests (AH with a cipher, IPComp with a MAC or a CPI
/// of 0x10000 or more) and KAME's `key_mature` refuses IPComp with a MAC:
/// - AH with an encryption algorithm (ah4/ah6 never encrypt);
/// - AH with the null MAC (digest_null: a 0-byte ICV authenticates
///   nothing; setkey's `-A null` sends no key, which af_key already refuses);
/// - IPComp with an auth algorithm (ipcomp never authenticates), or an SPI
///   above 16 bits (the CPI is 16 bits: no inbound packet could match it);
/// - the old-format flags ([`OLD_FORMAT_FLAGS`]).
fn check_transform(satype: u8, spi: u32, auth: u8, encrypt: u8, flags: u32) -> Result<(), Errno> {
    let bad = match satype {
        SADB_SATYPE_AH => encrypt != SADB_EALG_NONE || auth == SADB_X_AALG_NULL,
        SADB_X_SATYPE_IPCOMP => auth != SADB_AALG_NONE || spi > IPCOMP_CPI_MAX,
        _ => false,
    };
    if bad || flags & OLD_FORMAT_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

fn check_spdadd(p: &Parsed<'_>) -> Result<(), Errno> {
    let pol = match p.policy() {
        Some(pol) if same_family(p) => pol,
        _ => return Err(Errno::EINVAL),
    };
    if pol.policy_type > IPSEC_POLICY_IPSEC || pol.dir == 0 || pol.dir >= IPSEC_DIR_MAX {
        return Err(Errno::EINVAL);
    }
    if pol.policy_type != IPSEC_POLICY_IPSEC {
        return Ok(());
    }
    for (n, rq) in pol.raw_requests().enumerate() {
        check_request(n, pol.dir, &rq)?;
    }
    Ok(())
}

/// `parse_ipsecrequest` for the `n`th (0-based) template of a policy.
fn check_request(n: usize, dir: u8, rq: &SadbXIpsecrequest<&[u8]>) -> Result<(), Errno> {
    if n >= XFRM_MAX_DEPTH {
        return Err(Errno::ELOOP);
    }
    // Linux stores the u16 proto into a u8 before validating it.
    let proto = rq.proto() as u8;
    if rq.mode() == 0
        || !matches!(
            proto,
            IPPROTO_AH | IPPROTO_ESP | IPPROTO_COMP | IPPROTO_ROUTING | IPPROTO_DSTOPTS
        )
    {
        return Err(Errno::EINVAL);
    }
    let mode = rq.mode();
    if mode > IPSEC_MODE_BEET {
        return Err(Errno::EINVAL);
    }
    if rq.level() == IPSEC_LEVEL_USE && mode >= IPSEC_MODE_TUNNEL && dir == IPSEC_DIR_OUTBOUND {
        return Err(Errno::EINVAL);
    }
    if mode == IPSEC_MODE_TUNNEL {
        parse_sockaddr_pair(rq.payload())?;
    }
    Ok(())
}

/// `pfkey_migrate` with `ipsecrequests_to_migrate`: requests come in
/// old/new pairs that agree on proto, mode and reqid and both carry
/// endpoints.
fn check_migrate(p: &Parsed<'_>) -> Result<(), Errno> {
    let pol = match p.policy() {
        Some(pol) if same_family(p) => pol,
        _ => return Err(Errno::EINVAL),
    };
    if pol.dir >= IPSEC_DIR_MAX {
        return Err(Errno::EINVAL);
    }
    // The KM address pair was checked by parse().
    let mut rest = pol.request_bytes();
    let mut pairs = 0;
    while !rest.is_empty() && pairs < XFRM_MAX_DEPTH {
        let rq1 = request_at(rest, 16)?;
        let rest2 = rest.get(rq1.as_bytes().len()..).unwrap_or(&[]);
        let rq2 = request_at(rest2, 17)?;
        parse_sockaddr_pair(rq1.payload())?;
        parse_sockaddr_pair(rq2.payload())?;
        if rq1.proto() != rq2.proto()
            || rq1.mode() != rq2.mode()
            || rq1.reqid() != rq2.reqid()
            || rq1.mode() > IPSEC_MODE_BEET
        {
            return Err(Errno::EINVAL);
        }
        rest = rest2.get(rq2.as_bytes().len()..).unwrap_or(&[]);
        pairs += 1;
    }
    if pairs == 0 || !rest.is_empty() {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// The request at the start of `b`, which must hold at least `min` bytes
/// and the request's own length (≥ 16).
fn request_at(b: &[u8], min: usize) -> Result<SadbXIpsecrequest<&[u8]>, Errno> {
    if b.len() < min {
        return Err(Errno::EINVAL);
    }
    let n = usize::from(SadbXIpsecrequest::new_checked(b)?.len());
    if n < 16 || n > b.len() {
        return Err(Errno::EINVAL);
    }
    SadbXIpsecrequest::new_checked(b.get(..n).ok_or(Errno::EINVAL)?)
}

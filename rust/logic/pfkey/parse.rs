//! Walking and validating a whole message the way af_key's
//! `pfkey_get_base_msg` and `parse_exthdrs` do, and typed access to what
//! was found.

use super::consts::*;
use super::ext::{SadbExt, SadbMsg};
use super::lists::*;
use super::repr::*;
use super::Errno;

/// A validated message: the base header plus at most one extension of
/// each known type (types above `SADB_EXT_MAX` are skipped, as on Linux).
#[derive(Clone, Copy, Debug)]
pub struct Parsed<'a> {
    buf: &'a [u8],
    exts: [Option<&'a [u8]>; SADB_EXT_MAX as usize],
    /// rxfrm's own extension, kept though above `SADB_EXT_MAX`.
    rxfrm_stats: Option<&'a [u8]>,
}

/// Parses a message written to a PF_KEY socket, with af_key's checks and
/// errnos: shorter than the header `EMSGSIZE`; wrong version, non-zero
/// reserved or message type outside `1..=SADB_MAX` `EINVAL`;
/// `sadb_msg_len` not `len / 8` `EMSGSIZE`; then for each extension:
/// fewer than 4 bytes left, length 0, overrunning the message, type 0,
/// shorter than its struct, a repeat of an earlier type, or failing its
/// own check (address, key, security context, plus rxfrm's stricter
/// sensitivity, KM address and request-framing checks) `EINVAL`.
pub fn parse(buf: &[u8]) -> Result<Parsed<'_>, Errno> {
    parse_inner(buf, true)
}

/// As [`parse`], for messages coming from the kernel (the setkey side):
/// accepts a non-zero `sadb_msg_reserved`, where Linux reports a policy's
/// refcount.
pub fn parse_reply(buf: &[u8]) -> Result<Parsed<'_>, Errno> {
    parse_inner(buf, false)
}

fn parse_inner(buf: &[u8], strict: bool) -> Result<Parsed<'_>, Errno> {
    let hdr = SadbMsg::new_checked(buf).map_err(|_| Errno::EMSGSIZE)?;
    if hdr.version() != PF_KEY_V2
        || (strict && hdr.reserved() != 0)
        || hdr.msg_type() == SADB_RESERVED
        || hdr.msg_type() > SADB_MAX
    {
        return Err(Errno::EINVAL);
    }
    // af_key compares against len / 8: up to 7 trailing bytes get past
    // this and fail in the extension walk instead.
    let words = usize::from(hdr.len());
    if words != buf.len() / 8 || words < 2 {
        return Err(Errno::EMSGSIZE);
    }
    let mut p = Parsed {
        buf,
        exts: [None; SADB_EXT_MAX as usize],
        rxfrm_stats: None,
    };
    let mut rest = buf.get(16..).unwrap_or(&[]);
    while !rest.is_empty() {
        let eh = SadbExt::new_checked(rest)?;
        let ext_len = usize::from(eh.len()) * 8;
        let ext_type = eh.ext_type();
        if ext_len < 8 || ext_len > rest.len() || ext_type == SADB_EXT_RESERVED {
            return Err(Errno::EINVAL);
        }
        let (ext, tail) = rest.split_at_checked(ext_len).ok_or(Errno::EINVAL)?;
        rest = tail;
        if ext_type > SADB_EXT_MAX {
            if ext_type == SADB_X_EXT_RXFRM_STATS {
                p.rxfrm_stats = Some(ext);
            }
            continue;
        }
        let min = EXT_MIN_LEN.get(usize::from(ext_type)).copied().unwrap_or(0);
        if ext_len < usize::from(min) {
            return Err(Errno::EINVAL);
        }
        let slot = p
            .exts
            .get_mut(usize::from(ext_type) - 1)
            .ok_or(Errno::EINVAL)?;
        if slot.is_some() {
            return Err(Errno::EINVAL);
        }
        verify_ext(ext_type, ext)?;
        *slot = Some(ext);
    }
    Ok(p)
}

/// The per-type check of one extension (af_key's `verify_*` plus rxfrm's).
fn verify_ext(ext_type: u16, ext: &[u8]) -> Result<(), Errno> {
    let r = match ext_type {
        SADB_EXT_ADDRESS_SRC
        | SADB_EXT_ADDRESS_DST
        | SADB_EXT_ADDRESS_PROXY
        | SADB_X_EXT_NAT_T_OA => AddressRepr::parse(ext).map(drop),
        SADB_EXT_KEY_AUTH | SADB_EXT_KEY_ENCRYPT => KeyRepr::parse(ext).map(drop),
        SADB_X_EXT_SEC_CTX => SecCtxRepr::parse(ext).map(drop),
        SADB_EXT_SENSITIVITY => SensRepr::parse(ext).map(drop),
        SADB_X_EXT_KMADDRESS => KmAddressRepr::parse(ext).map(drop),
        SADB_X_EXT_POLICY => Policy::parse(ext).map(drop),
        _ => Ok(()),
    };
    r.map_err(|_| Errno::EINVAL)
}

impl<'a> Parsed<'a> {
    /// The whole message.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// A view of the base header.
    pub fn hdr(&self) -> SadbMsg<&'a [u8]> {
        SadbMsg::new_unchecked(self.buf)
    }

    /// The base header's fields.
    pub fn header(&self) -> MsgHeader {
        MsgHeader::parse(&self.hdr())
    }

    /// `sadb_msg_type`.
    pub fn msg_type(&self) -> u8 {
        self.hdr().msg_type()
    }

    /// `sadb_msg_satype`.
    pub fn satype(&self) -> u8 {
        self.hdr().satype()
    }

    /// `sadb_msg_seq`.
    pub fn seq(&self) -> u32 {
        self.hdr().seq()
    }

    /// `sadb_msg_pid`.
    pub fn pid(&self) -> u32 {
        self.hdr().pid()
    }

    /// `sadb_msg_errno`.
    pub fn errno(&self) -> u8 {
        self.hdr().errno()
    }

    /// `sadb_msg_len` (64-bit words).
    pub fn len_words(&self) -> u16 {
        self.hdr().len()
    }

    /// The raw extension of `ext_type` (header included), if present.
    pub fn ext(&self, ext_type: u16) -> Option<&'a [u8]> {
        let i = usize::from(ext_type).checked_sub(1)?;
        self.exts.get(i).copied().flatten()
    }

    /// Whether an extension of `ext_type` is present.
    pub fn has(&self, ext_type: u16) -> bool {
        self.ext(ext_type).is_some()
    }

    /// The present extension types, ascending.
    pub fn ext_types(&self) -> impl Iterator<Item = u16> + '_ {
        (1..=SADB_EXT_MAX).filter(move |&t| self.has(t))
    }

    /// Every extension in wire order, unknown types included, each as
    /// `(type, bytes)`.
    pub fn raw_exts(&self) -> impl Iterator<Item = (u16, &'a [u8])> + 'a {
        let mut rest = self.buf.get(16..).unwrap_or(&[]);
        core::iter::from_fn(move || {
            let eh = SadbExt::new_checked(rest).ok()?;
            let (ext, tail) = rest.split_at_checked(usize::from(eh.len()) * 8)?;
            if ext.is_empty() {
                return None;
            }
            rest = tail;
            Some((eh.ext_type(), ext))
        })
    }

    /// `SADB_EXT_SA`.
    pub fn sa(&self) -> Option<SaRepr> {
        SaRepr::parse(self.ext(SADB_EXT_SA)?).ok()
    }

    /// A lifetime of `ext_type` (current, hard or soft).
    pub fn lifetime(&self, ext_type: u16) -> Option<LifetimeRepr> {
        match ext_type {
            SADB_EXT_LIFETIME_CURRENT | SADB_EXT_LIFETIME_HARD | SADB_EXT_LIFETIME_SOFT => {
                LifetimeRepr::parse(self.ext(ext_type)?).ok()
            }
            _ => None,
        }
    }

    /// `SADB_EXT_LIFETIME_CURRENT`.
    pub fn lifetime_current(&self) -> Option<LifetimeRepr> {
        self.lifetime(SADB_EXT_LIFETIME_CURRENT)
    }

    /// `SADB_EXT_LIFETIME_HARD`.
    pub fn lifetime_hard(&self) -> Option<LifetimeRepr> {
        self.lifetime(SADB_EXT_LIFETIME_HARD)
    }

    /// `SADB_EXT_LIFETIME_SOFT`.
    pub fn lifetime_soft(&self) -> Option<LifetimeRepr> {
        self.lifetime(SADB_EXT_LIFETIME_SOFT)
    }

    /// An address of `ext_type` (src, dst, proxy or NAT-T OA).
    pub fn address(&self, ext_type: u16) -> Option<AddressRepr> {
        match ext_type {
            SADB_EXT_ADDRESS_SRC
            | SADB_EXT_ADDRESS_DST
            | SADB_EXT_ADDRESS_PROXY
            | SADB_X_EXT_NAT_T_OA => AddressRepr::parse(self.ext(ext_type)?).ok(),
            _ => None,
        }
    }

    /// `SADB_EXT_ADDRESS_SRC`.
    pub fn address_src(&self) -> Option<AddressRepr> {
        self.address(SADB_EXT_ADDRESS_SRC)
    }

    /// `SADB_EXT_ADDRESS_DST`.
    pub fn address_dst(&self) -> Option<AddressRepr> {
        self.address(SADB_EXT_ADDRESS_DST)
    }

    /// `SADB_EXT_ADDRESS_PROXY`.
    pub fn address_proxy(&self) -> Option<AddressRepr> {
        self.address(SADB_EXT_ADDRESS_PROXY)
    }

    /// `SADB_X_EXT_NAT_T_OA`.
    pub fn nat_t_oa(&self) -> Option<AddressRepr> {
        self.address(SADB_X_EXT_NAT_T_OA)
    }

    /// `SADB_EXT_KEY_AUTH`.
    pub fn key_auth(&self) -> Option<KeyRepr<'a>> {
        KeyRepr::parse(self.ext(SADB_EXT_KEY_AUTH)?).ok()
    }

    /// `SADB_EXT_KEY_ENCRYPT`.
    pub fn key_encrypt(&self) -> Option<KeyRepr<'a>> {
        KeyRepr::parse(self.ext(SADB_EXT_KEY_ENCRYPT)?).ok()
    }

    /// `SADB_EXT_IDENTITY_SRC`.
    pub fn identity_src(&self) -> Option<IdentityRepr<'a>> {
        IdentityRepr::parse(self.ext(SADB_EXT_IDENTITY_SRC)?).ok()
    }

    /// `SADB_EXT_IDENTITY_DST`.
    pub fn identity_dst(&self) -> Option<IdentityRepr<'a>> {
        IdentityRepr::parse(self.ext(SADB_EXT_IDENTITY_DST)?).ok()
    }

    /// `SADB_EXT_SENSITIVITY`.
    pub fn sensitivity(&self) -> Option<SensRepr<'a>> {
        SensRepr::parse(self.ext(SADB_EXT_SENSITIVITY)?).ok()
    }

    /// `SADB_EXT_PROPOSAL`.
    pub fn proposal(&self) -> Option<Proposal<'a>> {
        Proposal::parse(self.ext(SADB_EXT_PROPOSAL)?).ok()
    }

    /// `SADB_EXT_SUPPORTED_AUTH`.
    pub fn supported_auth(&self) -> Option<Supported<'a>> {
        Supported::parse(self.ext(SADB_EXT_SUPPORTED_AUTH)?).ok()
    }

    /// `SADB_EXT_SUPPORTED_ENCRYPT`.
    pub fn supported_encrypt(&self) -> Option<Supported<'a>> {
        Supported::parse(self.ext(SADB_EXT_SUPPORTED_ENCRYPT)?).ok()
    }

    /// `SADB_EXT_SPIRANGE`.
    pub fn spirange(&self) -> Option<SpiRangeRepr> {
        SpiRangeRepr::parse(self.ext(SADB_EXT_SPIRANGE)?).ok()
    }

    /// `SADB_X_EXT_KMPRIVATE`'s payload.
    pub fn kmprivate(&self) -> Option<&'a [u8]> {
        parse_kmprivate(self.ext(SADB_X_EXT_KMPRIVATE)?).ok()
    }

    /// `SADB_X_EXT_POLICY`.
    pub fn policy(&self) -> Option<Policy<'a>> {
        Policy::parse(self.ext(SADB_X_EXT_POLICY)?).ok()
    }

    /// `SADB_X_EXT_SA2`.
    pub fn sa2(&self) -> Option<Sa2Repr> {
        Sa2Repr::parse(self.ext(SADB_X_EXT_SA2)?).ok()
    }

    /// `SADB_X_EXT_NAT_T_TYPE`.
    pub fn nat_t_type(&self) -> Option<u8> {
        parse_nat_t_type(self.ext(SADB_X_EXT_NAT_T_TYPE)?).ok()
    }

    /// `SADB_X_EXT_NAT_T_SPORT`, host order.
    pub fn nat_t_sport(&self) -> Option<u16> {
        parse_nat_t_port(self.ext(SADB_X_EXT_NAT_T_SPORT)?).ok()
    }

    /// `SADB_X_EXT_NAT_T_DPORT`, host order.
    pub fn nat_t_dport(&self) -> Option<u16> {
        parse_nat_t_port(self.ext(SADB_X_EXT_NAT_T_DPORT)?).ok()
    }

    /// `SADB_X_EXT_SEC_CTX`.
    pub fn sec_ctx(&self) -> Option<SecCtxRepr<'a>> {
        SecCtxRepr::parse(self.ext(SADB_X_EXT_SEC_CTX)?).ok()
    }

    /// `SADB_X_EXT_KMADDRESS`.
    pub fn kmaddress(&self) -> Option<KmAddressRepr> {
        KmAddressRepr::parse(self.ext(SADB_X_EXT_KMADDRESS)?).ok()
    }

    /// `SADB_X_EXT_FILTER`.
    pub fn filter(&self) -> Option<FilterRepr> {
        FilterRepr::parse(self.ext(SADB_X_EXT_FILTER)?).ok()
    }

    /// Whether a GET/DUMP asks for rxfrm's per-SA counters.
    pub fn wants_rxfrm_stats(&self) -> bool {
        self.rxfrm_stats.is_some()
    }

    /// rxfrm's per-SA counters in an answer.
    pub fn rxfrm_stats(&self) -> Option<SaStatsRepr> {
        SaStatsRepr::parse(self.rxfrm_stats?).ok()
    }
}

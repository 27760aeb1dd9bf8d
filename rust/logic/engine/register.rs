//! SADB_REGISTER and SADB_X_PROMISC (af_key's `pfkey_register`,
//! `pfkey_promisc`), and the algorithm lists they and ACQUIRE advertise.

use super::convert::copy_message;
use super::{AlgProbe, Audience, Outbox, SockCtl};
use crate::logic::algs::{self, AlgDesc, AlgKind};
use crate::logic::pfkey::consts::*;
use crate::logic::pfkey::{AlgRepr, CombRepr, Errno, MsgHeader, MsgWriter, Parsed, SupportedRepr};
use crate::logic::types::IpsecProto;
use crate::seam::Vec;

/// Room for every algorithm of one kind (the table has fewer).
const MAX_LISTED: usize = 48;

/// The `sadb_alg`s of one supported-algorithms extension, on the stack.
struct AlgList {
    algs: [AlgRepr; MAX_LISTED],
    n: usize,
}

impl AlgList {
    fn as_slice(&self) -> &[AlgRepr] {
        self.algs.get(..self.n).unwrap_or(&[])
    }
}

/// Whether the kernel can run `a` (known to the crypto API and probed).
pub(super) fn runnable(a: &AlgDesc, probe: &dyn AlgProbe) -> bool {
    a.implemented() && probe.available(a)
}

/// Whether an AH SA may use auth algorithm `a`: every MAC but the null
/// one (check.rs refuses AH with digest_null).
pub(super) fn ah_auth(a: &AlgDesc) -> bool {
    a.id != SADB_X_AALG_NULL
}

/// `compose_sadb_supported`'s list for `kind`: what can really run, in
/// table order. Unlike Linux the AEADs are listed too: rxfrm accepts them
/// through PF_KEY; and the auth list of an AH registration leaves out the
/// null MAC, which AH refuses.
fn supported(kind: AlgKind, satype: u8, probe: &dyn AlgProbe) -> AlgList {
    let mut l = AlgList {
        algs: [AlgRepr::default(); MAX_LISTED],
        n: 0,
    };
    let usable = |a: &&AlgDesc| {
        runnable(a, probe) && (satype != SADB_SATYPE_AH || kind != AlgKind::Auth || ah_auth(a))
    };
    for (slot, a) in l.algs.iter_mut().zip(algs::iter(kind).filter(usable)) {
        *slot = a.to_sadb_alg();
        l.n += 1;
    }
    l
}

/// SADB_REGISTER: marks the socket registered for the SA type (UNSPEC
/// marks nothing; twice is `EEXIST`) and answers with the algorithms,
/// to the sockets registered for that type and the sender. Every SA type
/// gets both lists, IPComp included: RFC 2367 has no extension for
/// compression algorithms, and af_key (like KAME's key_register) sends the
/// same auth and encryption lists whatever the type.
pub(super) fn register(
    p: &Parsed<'_>,
    sock: &mut SockCtl,
    probe: &dyn AlgProbe,
    out: &mut dyn Outbox,
) -> Result<(), Errno> {
    let satype = p.satype();
    // check_required refused types above SADB_SATYPE_MAX (9).
    let bit = 1u32.checked_shl(u32::from(satype)).unwrap_or(0);
    if satype != SADB_SATYPE_UNSPEC && sock.registered & bit != 0 {
        return Err(Errno::EEXIST);
    }
    let auth = supported(AlgKind::Auth, satype, probe);
    let enc = supported(AlgKind::Encrypt, satype, probe);
    let hdr = MsgHeader {
        errno: 0,
        ..p.header()
    };
    out.send(Audience::Registered(satype), &mut |w: &mut MsgWriter<
        '_,
    >| {
        w.header(&hdr)?;
        for (t, l) in [
            (SADB_EXT_SUPPORTED_AUTH, &auth),
            (SADB_EXT_SUPPORTED_ENCRYPT, &enc),
        ] {
            if l.n > 0 {
                w.supported(t, &SupportedRepr { algs: l.as_slice() })?;
            }
        }
        Ok(())
    })?;
    // Only once the reply exists, as af_key undoes the bit when it fails.
    if satype != SADB_SATYPE_UNSPEC {
        sock.registered |= bit;
    }
    Ok(())
}

/// SADB_X_PROMISC: the header-only form sets (satype 1) or clears (0)
/// promiscuous mode; every form is then echoed to every socket (the
/// header-only one with errno 0), as af_key does.
pub(super) fn promisc(
    p: &Parsed<'_>,
    sock: &mut SockCtl,
    out: &mut dyn Outbox,
) -> Result<(), Errno> {
    let bare = p.len_words() == 2;
    if bare {
        sock.promisc = p.satype() == 1;
    }
    let msg = p.as_bytes();
    let _ = out.send(Audience::All, &mut |w: &mut MsgWriter<'_>| {
        copy_message(w, msg, |h| {
            if bare {
                h.errno = 0;
            }
        })
    });
    Ok(())
}

/// The lifetimes af_key proposes in every `sadb_comb`.
fn comb_base() -> CombRepr {
    CombRepr {
        hard_addtime: 24 * 60 * 60,
        soft_addtime: 20 * 60 * 60,
        hard_usetime: 8 * 60 * 60,
        soft_usetime: 7 * 60 * 60,
        ..CombRepr::default()
    }
}

/// `dump_ah_combs`/`dump_esp_combs` over what can run: AH one comb per
/// non-null auth algorithm (Linux's template bitmap leaves digest_null's
/// id 251 out too); ESP every cipher with every non-null auth algorithm,
/// and each AEAD alone (rxfrm only). IPComp gets no proposal.
pub(super) fn proposal(proto: IpsecProto, probe: &dyn AlgProbe) -> Result<Vec<CombRepr>, Errno> {
    let mut combs = Vec::new();
    let auths = || algs::iter(AlgKind::Auth).filter(|a| runnable(a, probe));
    match proto {
        IpsecProto::Ah => {
            for a in auths().filter(|a| ah_auth(a)) {
                combs.push(CombRepr {
                    auth: a.id,
                    auth_minbits: a.sadb_min_bits,
                    auth_maxbits: a.sadb_max_bits,
                    ..comb_base()
                })?;
            }
        }
        IpsecProto::Esp => {
            for e in algs::iter(AlgKind::Encrypt).filter(|a| runnable(a, probe)) {
                let with_enc = CombRepr {
                    encrypt: e.id,
                    encrypt_minbits: e.sadb_min_bits,
                    encrypt_maxbits: e.sadb_max_bits,
                    ..comb_base()
                };
                if e.aead {
                    combs.push(with_enc)?;
                    continue;
                }
                for a in auths().filter(|a| a.id != SADB_X_AALG_NULL) {
                    combs.push(CombRepr {
                        auth: a.id,
                        auth_minbits: a.sadb_min_bits,
                        auth_maxbits: a.sadb_max_bits,
                        ..with_enc
                    })?;
                }
            }
        }
        IpsecProto::IpComp => {}
    }
    Ok(combs)
}

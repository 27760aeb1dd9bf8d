//! What the fuzzer found where rxfrm differed from Linux af_key, each as
//! the smallest input that showed it, kept as regression tests now that
//! rxfrm does what af_key does.

use rxfrm_logic::algs::AlgDesc;
use rxfrm_logic::engine::{AlgProbe, Audience, Build, Engine, Limits, Outbox, Rejected, SockCtl};
use rxfrm_logic::pfkey::{build_vec, Errno};

#[derive(Default)]
struct Rec(Vec<(Audience, Vec<u8>)>);

impl Outbox for Rec {
    fn send(&mut self, to: Audience, build: &mut Build<'_>) -> Result<(), Errno> {
        self.0.push((to, build_vec(|w| build(w))?.to_vec()));
        Ok(())
    }
}

struct All;
impl AlgProbe for All {
    fn available(&self, _: &AlgDesc) -> bool {
        true
    }
}

/// af_key's `pfkey_process` broadcasts `skb_clone(skb)` of the request to
/// promiscuous sockets before parsing it: the bytes as sent, whatever
/// their extensions hold. rxfrm rebuilds the copy (`convert::copy_message`)
/// and stops at the first extension it cannot frame, patching
/// `sadb_msg_len`: `setkey -x` then shows a header-only ADD that nobody
/// sent. Found by pfkey-fuzz (seed 1, host target: "promisc-copy-altered").
#[test]
fn promiscuous_copy_is_the_request_verbatim() {
    // ADD, ESP, sadb_msg_len 3, then an extension of length 0.
    let mut req = vec![2u8, 3, 0, 3];
    req.extend(3u16.to_ne_bytes());
    req.extend(0u16.to_ne_bytes());
    req.extend(7u32.to_ne_bytes());
    req.extend(4242u32.to_ne_bytes());
    req.extend(0u16.to_ne_bytes()); // sadb_ext_len 0
    req.extend(1u16.to_ne_bytes()); // SADB_EXT_SA
    req.extend([0u8; 4]);
    let mut e = Engine::new(Limits {
        max_states: 10,
        max_policies: 10,
    });
    let mut rec = Rec::default();
    let r = e.handle(&req, &mut SockCtl::default(), 0, &All, &mut rec);
    assert_eq!(r, Err(Rejected::Message(Errno::EINVAL)));
    let copies: Vec<&Vec<u8>> = rec
        .0
        .iter()
        .filter(|(a, _)| *a == Audience::PromiscOnly)
        .map(|(_, m)| m)
        .collect();
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0], &req, "promiscuous copy differs from the request");
}

// SPDX-License-Identifier: GPL-2.0
//! rxfrm: IPsec for Linux as a loadable Rust module — the SPD and SAD per
//! network namespace, the PF_KEY v2 socket family (RFC 2367 + KAME), and
//! transforms through the kernel crypto API.

use kernel::prelude::*;

// The FFI layer: all `unsafe` lives below `sys`.
#[path = "sys/mod.rs"]
mod sys;

/// Allocation seam the shared logic uses (`crate::seam`).
#[path = "sys/seam.rs"]
pub mod seam;

/// The pure logic shared with the host test crate (rust/logic/lib.rs).
#[allow(missing_docs)]
#[path = "logic/mod.rs"]
pub mod logic;

mod af_key;
mod datapath;
mod netns;

module! {
    type: Rxfrm,
    name: "rxfrm",
    author: "rxfrm developers",
    description: "IPsec (PF_KEY v2, SPD/SAD, ESP/AH/IPcomp) in Rust",
    license: "GPL",
}

sys::param::modinfo!(VERSION, concat!("version=", env!("RXFRM_VERSION")));

sys::param::module_param_uint!(
    max_states,
    1_048_576,
    0o644,
    "SAs allowed per network namespace (ADD/GETSPI beyond it fail with ENOBUFS)"
);
sys::param::module_param_uint!(
    force_async,
    0,
    0o644,
    "1: run every new SA's crypto through cryptd (asynchronous completions, for testing)"
);
sys::param::module_param_uint!(
    max_policies,
    1_048_576,
    0o644,
    "Policies allowed per network namespace (SPDADD beyond it fails with ENOBUFS)"
);

struct Rxfrm {
    // Dropped in declaration order: no more IPsec input, no key manager, no
    // device events, no new socket, then the namespaces' states (hooks,
    // tables, bundles), then the bundle entries' slab, then the compressors
    // (every SA is gone by then).
    _esp: sys::proto::ProtoRegistration,
    _ah: sys::proto::ProtoRegistration,
    _ipcomp: sys::proto::ProtoRegistration,
    _km: sys::sockpol::KmRegistration,
    _events: sys::notify::NetEventsRegistration<netns::Events>,
    _family: sys::sock::FamilyRegistration<af_key::PfKey>,
    _pernet: sys::pernet::PernetRegistration<netns::NetState>,
    _bundles: sys::bundle::BundleRegistration,
    _comp: sys::comp::CompRegistration,
}

impl kernel::Module for Rxfrm {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // Each one is undone (dropped) if a later one fails.
        let comp = sys::comp::CompRegistration::new()?;
        let bundles = sys::bundle::BundleRegistration::new()?;
        let pernet = sys::pernet::PernetRegistration::new()?;
        let family = sys::sock::FamilyRegistration::new()?;
        let events = sys::notify::NetEventsRegistration::new()?;
        let km = sys::sockpol::KmRegistration::new();
        let esp = sys::proto::ProtoRegistration::new::<datapath::input::Esp>()?;
        let ah = sys::proto::ProtoRegistration::new::<datapath::input::Ah>()?;
        let ipcomp = sys::proto::ProtoRegistration::new::<datapath::input::IpComp>()?;
        pr_info!(
            "rxfrm {} loaded: PF_KEY v2, ESP, AH and IPcomp ready\n",
            env!("RXFRM_VERSION")
        );
        Ok(Rxfrm {
            _esp: esp,
            _ah: ah,
            _ipcomp: ipcomp,
            _km: km,
            _events: events,
            _family: family,
            _pernet: pernet,
            _bundles: bundles,
            _comp: comp,
        })
    }
}

impl Drop for Rxfrm {
    fn drop(&mut self) {
        pr_info!("rxfrm unloading\n");
    }
}

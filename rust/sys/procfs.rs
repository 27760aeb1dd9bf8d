//! `/proc/net/rxfrm_stat`: the namespace's datapath counters, in the
//! format of Linux's `/proc/net/xfrm_stat`.

use super::bindings;
use super::pernet::Net;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;

const NAME: &kernel::str::CStr = kernel::c_str!("rxfrm_stat");

/// Creates the file in `net`.
pub(crate) fn create(net: Net) -> Result {
    // SAFETY: live namespace; `show` stays valid while the file exists
    // (removed by `remove` before the module goes).
    let e = unsafe { bindings::rxfrm_proc_create(net.as_ptr(), NAME.as_char_ptr(), Some(show)) };
    if e != 0 {
        return Err(Error::from_errno(e));
    }
    Ok(())
}

/// Removes it (waits for readers).
pub(crate) fn remove(net: Net) {
    // SAFETY: live namespace.
    unsafe { bindings::rxfrm_proc_remove(net.as_ptr(), NAME.as_char_ptr()) };
}

struct SeqWriter(*mut bindings::seq_file);

impl core::fmt::Write for SeqWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // SAFETY: the seq_file is live during `show`; `s` is read only.
        unsafe { bindings::rxfrm_seq_puts(self.0, s.as_ptr().cast(), s.len()) };
        Ok(())
    }
}

unsafe extern "C" fn show(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: a single_open seq_file of a /proc/net file: its namespace is
    // held for the read, and the file exists only with our pernet state.
    let net = unsafe { Net::from_raw(bindings::rxfrm_seq_net(m)) };
    let values = net.state().dp.stats_snapshot();
    let _ = crate::logic::stats::format_table(&values, &mut SeqWriter(m));
    0
}

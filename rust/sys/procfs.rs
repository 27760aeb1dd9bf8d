//! A read-only file in a namespace's `/proc/net` (`proc_create_net_single`)
//! whose text a `ProcShow` writes.

use super::bindings;
use super::net::Net;
use core::marker::PhantomData;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;
use kernel::str::CStr;

/// What the file shows.
pub(crate) trait ProcShow: 'static {
    /// The file's name under `/proc/net`.
    const NAME: &'static CStr;
    /// Writes the file's text for `net` (a read holds the namespace).
    fn show(net: Net, out: &mut dyn core::fmt::Write);
}

/// The file in one namespace, removed on drop.
pub(crate) struct ProcFile<S: ProcShow> {
    net: Net,
    _s: PhantomData<S>,
}

impl<S: ProcShow> ProcFile<S> {
    /// Creates the file in `net`, which must outlive the value.
    pub(crate) fn create(net: Net) -> Result<Self> {
        // SAFETY: live namespace; `show` stays valid while the file exists
        // (removed in drop, before the module goes).
        let e = unsafe {
            bindings::rxfrm_proc_create(net.as_ptr(), S::NAME.as_char_ptr(), Some(show::<S>))
        };
        if e != 0 {
            return Err(Error::from_errno(e));
        }
        Ok(ProcFile {
            net,
            _s: PhantomData,
        })
    }
}

impl<S: ProcShow> Drop for ProcFile<S> {
    fn drop(&mut self) {
        // SAFETY: created in `create` in this live namespace; waits for
        // readers.
        unsafe { bindings::rxfrm_proc_remove(self.net.as_ptr(), S::NAME.as_char_ptr()) };
    }
}

struct SeqWriter(*mut bindings::seq_file);

impl core::fmt::Write for SeqWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // SAFETY: the seq_file is live during `show`; `s` is read only.
        unsafe { bindings::rxfrm_seq_puts(self.0, s.as_ptr().cast(), s.len()) };
        Ok(())
    }
}

unsafe extern "C" fn show<S: ProcShow>(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: a single_open seq_file of a /proc/net file: its namespace is
    // held for the read.
    if let Some(net) = unsafe { Net::from_raw(bindings::rxfrm_seq_net(m)) } {
        S::show(net, &mut SeqWriter(m));
    }
    0
}

//! Module parameters and extra `.modinfo` strings, which 6.12's `module!`
//! macro does not offer: a `kernel_param` in the `__param` section (what C's
//! `module_param()` emits) plus its `parm=`/`parmtype=` modinfo strings.

/// Copies a `&str` into a NUL-terminated byte array for `.modinfo`.
pub(crate) const fn modinfo_bytes<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < b.len() {
        out[i] = b[i];
        i += 1;
    }
    out
}

/// Emits one `key=value` string into `.modinfo` (shown by `modinfo`).
macro_rules! modinfo {
    ($ident:ident, $s:expr) => {
        #[link_section = ".modinfo"]
        #[used]
        static $ident: [u8; $s.len() + 1] = $crate::sys::param::modinfo_bytes($s);
    };
}
pub(crate) use modinfo;

/// Declares a `uint` module parameter readable as an `AtomicU32`.
/// Writes through sysfs (mode `$perm`) land in the same atomic.
macro_rules! module_param_uint {
    ($name:ident, $default:expr, $perm:expr, $desc:expr) => {
        #[allow(non_upper_case_globals)]
        pub(crate) static $name: core::sync::atomic::AtomicU32 =
            core::sync::atomic::AtomicU32::new($default);

        const _: () = {
            const NAME: &str = concat!(stringify!($name), "\0");
            $crate::sys::param::modinfo!(
                PARM,
                concat!("parm=", stringify!($name), ":", $desc)
            );
            $crate::sys::param::modinfo!(
                PARMTYPE,
                concat!("parmtype=", stringify!($name), ":uint")
            );

            #[link_section = "__param"]
            #[used]
            static PARAM: $crate::sys::sync_cell::KernelStatic<
                $crate::sys::bindings::kernel_param,
            > = $crate::sys::sync_cell::KernelStatic::new(
                $crate::sys::bindings::kernel_param {
                    name: NAME.as_ptr(),
                    mod_: $crate::sys::util::this_module(),
                    ops: core::ptr::addr_of!($crate::sys::bindings::param_ops_uint),
                    perm: $perm,
                    level: -1,
                    flags: 0,
                    __bindgen_anon_1: $crate::sys::bindings::kernel_param__bindgen_ty_1 {
                        arg: $name.as_ptr().cast(),
                    },
                },
            );
        };
    };
}
pub(crate) use module_param_uint;

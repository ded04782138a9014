// SPDX-License-Identifier: GPL-2.0

//! Module parameters as the C driver's (src/main.c): each checked when it
//! is set (a value out of range, or not a number, fails the load with a
//! line in dmesg giving the range), sizes with an optional K, M or G, and
//! every one shown read-only (0444) in /sys/module/scull_rs/parameters/.
//!
//! The `module!` macro of 7.2 takes integers only, without checks and
//! without sysfs, so the parameters are declared here the way
//! `module_param_cb()` declares them: a `struct kernel_param` in the
//! `__param` section, with this module's `kernel_param_ops`, and its
//! `parm`/`parmtype` lines in `.modinfo`.  The `unsafe` is here.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::{bindings, prelude::*};

/// An unsigned int parameter with bounds.
pub(crate) struct Uint {
    value: AtomicU32,
    min: u32,
    max: u32,
}

impl Uint {
    pub(crate) const fn new(default: u32, min: u32, max: u32) -> Self {
        Self {
            value: AtomicU32::new(default),
            min,
            max,
        }
    }

    /// The value: set once, at load, before the module's init runs.
    pub(crate) fn get(&self) -> u32 {
        self.value.load(Ordering::Relaxed)
    }
}

/// A size parameter (bytes, at most `i64::MAX`) with a least value.
pub(crate) struct Size {
    value: AtomicU64,
    min: u64,
}

impl Size {
    pub(crate) const fn new(default: u64, min: u64) -> Self {
        Self {
            value: AtomicU64::new(default),
            min,
        }
    }

    /// The value: set once, at load, before the module's init runs.
    pub(crate) fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }
}

/// A byte count with an optional K, M, G, T, P or E suffix (powers of
/// 1024) and an optional newline, as `scull_parse_size()` takes it:
/// decimal, 0x hex or 0 octal digits (`kstrtoull()` with base 0, which
/// refuses an overflow), the shift refused when it overflows; at most
/// `i64::MAX`.
pub(crate) fn parse_size(text: &[u8]) -> Result<u64> {
    let hex = text.len() >= 2 && text[0] == b'0' && (text[1] == b'x' || text[1] == b'X');
    let end = if hex {
        2 + text[2..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count()
    } else {
        text.iter().take_while(|c| c.is_ascii_digit()).count()
    };
    // 2^64 has 20 decimal, 22 octal digits
    let mut digits = [0u8; 24];
    if end == 0 || end >= digits.len() {
        return Err(EINVAL);
    }
    digits[..end].copy_from_slice(&text[..end]);
    let mut v: u64 = 0;
    // SAFETY: `digits` is NUL-terminated (zeroed past `end`); `v` is a
    // valid place for the result.
    if unsafe { bindings::kstrtoull(digits.as_ptr().cast(), 0, &mut v) } != 0 {
        return Err(EINVAL);
    }
    let mut rest = &text[end..];
    let mut shift = 0;
    if let Some(&c) = rest.first() {
        if let Some(i) = b"KMGTPE".iter().position(|&s| s == c.to_ascii_uppercase()) {
            shift = 10 * (i as u32 + 1);
            rest = &rest[1..];
        }
    }
    if rest.first() == Some(&b'\n') {
        rest = &rest[1..];
    }
    if !rest.is_empty() || v.leading_zeros() < shift {
        return Err(EINVAL);
    }
    let v = v << shift;
    if v > i64::MAX as u64 {
        return Err(EINVAL);
    }
    Ok(v)
}

/// The text of a parameter being set, and its name.
///
/// # Safety
///
/// `val` must be a NUL-terminated string and `kp` a parameter of this
/// module, both valid for the call.
unsafe fn param_text<'a>(
    val: *const c_char,
    kp: *const bindings::kernel_param,
) -> (&'a CStr, &'a CStr) {
    // SAFETY: as the caller promises; the name is a static string.
    unsafe { (CStr::from_char_ptr(val), CStr::from_char_ptr((*kp).name)) }
}

/// # Safety
///
/// Called by the kernel only, with the value's text and a parameter
/// declared by [`scull_param!`] with these ops.
unsafe extern "C" fn uint_set(val: *const c_char, kp: *const bindings::kernel_param) -> c_int {
    if val.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: the kernel passes the value's text and one of the parameters
    // declared by `scull_param!` with these ops.
    let (text, name) = unsafe { param_text(val, kp) };
    // SAFETY: `arg` of a parameter with these ops is a static `Uint`.
    let p = unsafe { &*(*kp).__bindgen_anon_1.arg.cast::<Uint>() };
    let mut n: c_uint = 0;
    // SAFETY: `val` is NUL-terminated; `n` is a valid place.
    let err = unsafe { bindings::kstrtouint(val, 0, &mut n) };
    if err != 0 || n < p.min || n > p.max {
        pr_err!(
            "invalid {}={}: expected an integer from {} to {}\n",
            name.to_str().unwrap_or("?"),
            text.to_str().unwrap_or("?"),
            p.min,
            p.max
        );
        return EINVAL.to_errno();
    }
    p.value.store(n, Ordering::Relaxed);
    0
}

/// # Safety
///
/// Called by sysfs only, with its page and a parameter declared by
/// [`scull_param!`] with these ops.
unsafe extern "C" fn uint_get(buf: *mut c_char, kp: *const bindings::kernel_param) -> c_int {
    // SAFETY: `arg` of a parameter with these ops is a static `Uint`.
    let p = unsafe { &*(*kp).__bindgen_anon_1.arg.cast::<Uint>() };
    // SAFETY: `buf` is the page sysfs gives; "%u\n" takes one unsigned int.
    unsafe { bindings::sysfs_emit(buf, c"%u\n".as_char_ptr(), p.get() as c_uint) }
}

/// # Safety
///
/// Called by the kernel only, with the value's text and a parameter
/// declared by [`scull_param!`] with these ops.
unsafe extern "C" fn size_set(val: *const c_char, kp: *const bindings::kernel_param) -> c_int {
    if val.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: as in `uint_set`.
    let (text, name) = unsafe { param_text(val, kp) };
    // SAFETY: `arg` of a parameter with these ops is a static `Size`.
    let p = unsafe { &*(*kp).__bindgen_anon_1.arg.cast::<Size>() };
    match parse_size(text.to_bytes()) {
        Ok(n) if n >= p.min => {
            p.value.store(n, Ordering::Relaxed);
            0
        }
        _ => {
            pr_err!(
                "invalid {}={}: expected a size from {} to {} bytes, with an optional K, M or G\n",
                name.to_str().unwrap_or("?"),
                text.to_str().unwrap_or("?"),
                p.min,
                i64::MAX
            );
            EINVAL.to_errno()
        }
    }
}

/// # Safety
///
/// Called by sysfs only, with its page and a parameter declared by
/// [`scull_param!`] with these ops.
unsafe extern "C" fn size_get(buf: *mut c_char, kp: *const bindings::kernel_param) -> c_int {
    // SAFETY: `arg` of a parameter with these ops is a static `Size`.
    let p = unsafe { &*(*kp).__bindgen_anon_1.arg.cast::<Size>() };
    // SAFETY: `buf` is the page sysfs gives; "%llu\n" takes one long long.
    unsafe { bindings::sysfs_emit(buf, c"%llu\n".as_char_ptr(), p.get() as c_ulonglong) }
}

pub(crate) static UINT_OPS: bindings::kernel_param_ops = bindings::kernel_param_ops {
    flags: 0,
    set: Some(uint_set),
    get: Some(uint_get),
    free: None,
};

pub(crate) static SIZE_OPS: bindings::kernel_param_ops = bindings::kernel_param_ops {
    flags: 0,
    set: Some(size_set),
    get: Some(size_get),
    free: None,
};

/// A `.modinfo` line as a byte array of its exact length.
pub(crate) const fn modinfo<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = b[i];
        i += 1;
    }
    out
}

/// `scull_param!(NAME, Uint | Size, "uint" | "ullong", initialiser, "description")`:
/// a static `NAME` holding the value, its `kernel_param` (mode 0444), and
/// its `parm` and `parmtype` lines for modinfo.
macro_rules! scull_param {
    ($name:ident, $kind:ident, $ops:ident, $type:literal, $init:expr, $desc:literal) => {
        #[allow(non_upper_case_globals)]
        pub(crate) static $name: $crate::params::$kind = $init;
        const _: () = {
            #[link_section = "__param"]
            #[used(compiler)]
            static PARAM: ::kernel::module_param::KernelParam =
                ::kernel::module_param::KernelParam::new(::kernel::bindings::kernel_param {
                    name: ::kernel::str::as_char_ptr_in_const_context(
                        match ::core::ffi::CStr::from_bytes_with_nul(
                            concat!(stringify!($name), "\0").as_bytes(),
                        ) {
                            Ok(s) => s,
                            Err(_) => panic!("parameter name"),
                        },
                    ),
                    // made by the kernel at load, alive until the module goes
                    mod_: (&raw const ::kernel::bindings::__this_module).cast_mut(),
                    ops: &raw const $crate::params::$ops,
                    perm: 0o444,
                    level: -1,
                    flags: 0,
                    __bindgen_anon_1: ::kernel::bindings::kernel_param__bindgen_ty_1 {
                        arg: (&raw const $name).cast_mut().cast(),
                    },
                });
            const PARM: &str = concat!("parm=", stringify!($name), ":", $desc, "\0");
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static MODINFO_PARM: [u8; PARM.len()] = $crate::params::modinfo(PARM);
            const TYPE: &str = concat!("parmtype=", stringify!($name), ":", $type, "\0");
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static MODINFO_TYPE: [u8; TYPE.len()] = $crate::params::modinfo(TYPE);
        };
    };
}
pub(crate) use scull_param;

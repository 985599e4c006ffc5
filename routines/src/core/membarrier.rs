//! Asymmetric fences: a process-wide memory barrier that a rarely-running side issues so that
//! a hot side can order its accesses with a compiler fence alone.
//!
//! Linux's `membarrier(2)` with `MEMBARRIER_CMD_PRIVATE_EXPEDITED` makes every other running
//! thread of the process execute a full memory barrier before the call returns (threads not
//! running pass one when they are switched out). In the C++ model it acts as a `SeqCst` fence
//! that the caller executes *and* that every other thread executes at some point of its
//! program order during the call. A Dekker-style pair whose hot side writes, compiler-fences
//! and reads, and whose cold side writes, calls [`heavy`] and reads, is therefore as ordered
//! as if both sides had fenced: wherever the injected barrier falls in the hot side's
//! sequence, either it separates the write from the read, or the whole sequence is visible
//! to the cold side after the call, or none of it has happened yet.
//!
//! The process registers once (`MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED`), on the first
//! [`available`] call, or on the first [`heavy`] call of a user that asked only
//! [`supported`] (the sole consumer of an unbounded channel, spec LF-68, which may never need
//! the barrier and should not pay the registration, slow in a busy process, for nothing).
//! Where that is impossible (not Linux, a kernel before 4.14, a seccomp
//! filter), under loom and miri (neither can model or run the call), and when the
//! environment variable `ROUTINES_NO_MEMBARRIER` is set (for comparisons and tests),
//! [`available`] is `false` and callers must fence on both sides.

#![cfg_attr(
    routines_loom,
    allow(dead_code, reason = "under loom the deque models the barrier itself")
)]

#[cfg(all(target_os = "linux", not(routines_loom), not(miri)))]
mod imp {
    use crate::loom::sync::atomic::{AtomicU32, Ordering};

    const UNKNOWN: u32 = 0;
    const YES: u32 = 1;
    const NO: u32 = 2;

    /// `UNKNOWN` until the first `available` call has registered (or failed to).
    static STATE: AtomicU32 = AtomicU32::new(UNKNOWN);

    // From <linux/membarrier.h>.
    const CMD_QUERY: libc::c_long = 0;
    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    fn membarrier(cmd: libc::c_long) -> libc::c_long {
        // SAFETY: `membarrier(cmd, flags = 0, cpu_id = 0)` takes no pointers.
        unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                cmd,
                0 as libc::c_long,
                0 as libc::c_long,
            )
        }
    }

    /// `UNKNOWN` until the first `supported` call has asked the kernel.
    static SUPPORTED: AtomicU32 = AtomicU32::new(UNKNOWN);

    fn query() -> bool {
        std::env::var_os("ROUTINES_NO_MEMBARRIER").is_none() && {
            let commands = membarrier(CMD_QUERY);
            commands >= 0 && commands & CMD_PRIVATE_EXPEDITED != 0
        }
    }

    pub(crate) fn supported() -> bool {
        // Relaxed: the answer is the kernel's, the same for every thread; nothing else is
        // published with it.
        match SUPPORTED.load(Ordering::Relaxed) {
            YES => true,
            NO => false,
            _ => {
                let yes = query();
                SUPPORTED.store(if yes { YES } else { NO }, Ordering::Relaxed);
                yes
            }
        }
    }

    pub(crate) fn available() -> bool {
        // Acquire: pairs with the Release store below; a `YES` means the registration (a
        // system call that completed before that store) is in effect.
        match STATE.load(Ordering::Acquire) {
            YES => true,
            NO => false,
            _ => {
                // Two first callers may both register: registration is idempotent.
                let supported = supported() && membarrier(CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
                // Release: pairs with the Acquire load above.
                STATE.store(if supported { YES } else { NO }, Ordering::Release);
                supported
            }
        }
    }

    pub(crate) fn heavy() {
        let mut result = membarrier(CMD_PRIVATE_EXPEDITED);
        if result != 0 {
            // Only an unregistered process fails (EPERM): the caller asked only `supported`
            // (or a child process did not inherit the registration). Register, try again.
            result = match membarrier(CMD_REGISTER_PRIVATE_EXPEDITED) {
                0 => membarrier(CMD_PRIVATE_EXPEDITED),
                failed => failed,
            };
        }
        // Carrying on without the barrier would break the caller's protocol, so fail loudly.
        assert_eq!(
            result,
            0,
            "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed after registration: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(not(all(target_os = "linux", not(routines_loom), not(miri))))]
mod imp {
    pub(crate) fn supported() -> bool {
        false
    }

    pub(crate) fn available() -> bool {
        false
    }

    pub(crate) fn heavy() {
        unreachable!("membarrier::heavy called where membarrier::supported() is false");
    }
}

/// Whether [`heavy`] can be used: the process is registered for private expedited
/// `membarrier`. Registers on the first call (one system call, or two; later calls are one
/// atomic load). Once `true`, it stays `true`.
#[inline]
pub(crate) fn available() -> bool {
    imp::available()
}

/// Whether the kernel offers the barrier at all (one system call on the first call, then
/// one atomic load), *without* registering the process. Registration can take milliseconds
/// once the process has several threads (the kernel waits for a grace period: 8-20 ms here
/// with three busy threads, against 0.3 us single-threaded), so a caller that may never need
/// the barrier asks this, and lets [`heavy`] register on its first call. Registering after
/// the hot side has started is sound: the barrier's guarantee covers every thread of the
/// process from the call on, whenever they ran their side.
#[inline]
pub(crate) fn supported() -> bool {
    imp::supported()
}

/// The process-wide barrier. Only call it after [`supported`] (or [`available`]) returned
/// `true`; registers the process first if it is not registered yet.
///
/// # Panics
/// If the system call fails after registration (it has no documented way to).
pub(crate) fn heavy() {
    imp::heavy();
}

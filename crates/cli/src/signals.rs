//! SIGINT/SIGTERM: remembered in a flag so the run can stop, report and save what it measured.
//! The process's one global input; the engine learns of it only through the run's observer
//! ([`shardslap_engine::RunObserver::stop_requested`]).

use std::sync::atomic::{AtomicI32, Ordering};

/// The last terminating signal received, or 0.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    RECEIVED.store(signal, Ordering::SeqCst);
}

/// Installs the handlers for SIGINT and SIGTERM (idempotent).
pub fn install() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: `on_signal` only stores into an atomic, which is async-signal-safe, and these
    // calls have no other preconditions.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// The terminating signal received so far, if any (e.g. `libc::SIGINT`).
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Why the run must stop, once a terminating signal came: `stopped by SIGINT`.
pub fn stop_reason() -> Option<String> {
    received().map(|signal| {
        let name = if signal == libc::SIGTERM {
            "SIGTERM"
        } else {
            "SIGINT"
        };
        format!("stopped by {name}")
    })
}

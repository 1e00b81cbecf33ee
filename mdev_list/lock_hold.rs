// SPDX-License-Identifier: GPL-2.0

//! How long each critical section holds the global mutex.
//!
//! Every use of the global list goes through [`lock`], which names the
//! section it runs. Built with `MDEV_LOCK_HOLD=1` (only `make bench` does,
//! for a second copy of the core that it loads for the hold-time figures
//! alone), the guard also reads the monotonic clock when it gets the mutex
//! and again just before it lets go, and adds the difference to its
//! section's totals, which `/sys/kernel/debug/mdev/lock_hold` shows. Without
//! that flag the guard is the mutex guard and nothing else: the figures cost
//! nothing in production.

use super::{MdevList, MDEV_LIST};
use core::ops::{Deref, DerefMut};
use kernel::sync::GlobalGuard;

/// The critical sections of the global mutex.
#[derive(Clone, Copy)]
#[repr(usize)]
pub(crate) enum Section {
    /// `create`: reserving the UUID and an instance.
    Reserve,
    /// `create`: marking the new device active.
    Activate,
    /// `remove`: checking that the device is active and claiming its removal.
    BeginRemove,
    /// Unregistration of a parent, per device.
    MarkRemoving,
    /// A device's release: leaving the list.
    Forget,
    /// Reading the debugfs lists.
    Debugfs,
}

impl Section {
    /// Every section, in the order of the enum.
    #[cfg(mdev_lock_hold)]
    const ALL: [Section; 6] = [
        Self::Reserve,
        Self::Activate,
        Self::BeginRemove,
        Self::MarkRemoving,
        Self::Forget,
        Self::Debugfs,
    ];

    /// The name shown in debugfs.
    #[cfg(mdev_lock_hold)]
    fn name(self) -> &'static str {
        match self {
            Self::Reserve => "reserve",
            Self::Activate => "activate",
            Self::BeginRemove => "begin_remove",
            Self::MarkRemoving => "mark_removing",
            Self::Forget => "forget",
            Self::Debugfs => "debugfs",
        }
    }
}

/// Totals per section, kept in the list itself and so under its mutex.
#[cfg(mdev_lock_hold)]
pub(crate) struct HoldTotals {
    count: [u64; Section::ALL.len()],
    total_ns: [u64; Section::ALL.len()],
    max_ns: [u64; Section::ALL.len()],
}

#[cfg(mdev_lock_hold)]
impl HoldTotals {
    /// No section entered yet.
    pub(crate) const fn new() -> Self {
        Self {
            count: [0; Section::ALL.len()],
            total_ns: [0; Section::ALL.len()],
            max_ns: [0; Section::ALL.len()],
        }
    }

    fn record(&mut self, section: Section, ns: u64) {
        let i = section as usize;
        self.count[i] += 1;
        self.total_ns[i] += ns;
        self.max_ns[i] = self.max_ns[i].max(ns);
    }

    /// One line per section: name, times entered, total and longest hold
    /// in nanoseconds.
    pub(crate) fn write(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        writeln!(f, "section count total_ns max_ns")?;
        for section in Section::ALL {
            let i = section as usize;
            writeln!(
                f,
                "{} {} {} {}",
                section.name(),
                self.count[i],
                self.total_ns[i],
                self.max_ns[i]
            )?;
        }
        Ok(())
    }
}

/// The global mutex, held for one critical section.
pub(crate) struct ListGuard {
    guard: GlobalGuard<MDEV_LIST>,
    #[cfg(mdev_lock_hold)]
    section: Section,
    #[cfg(mdev_lock_hold)]
    start: kernel::time::Instant<kernel::time::Monotonic>,
}

/// Takes the global mutex for `section`.
pub(crate) fn lock(section: Section) -> ListGuard {
    let guard = MDEV_LIST.lock();
    #[cfg(not(mdev_lock_hold))]
    let _ = section;
    ListGuard {
        guard,
        #[cfg(mdev_lock_hold)]
        section,
        #[cfg(mdev_lock_hold)]
        start: kernel::time::Instant::now(),
    }
}

impl Deref for ListGuard {
    type Target = MdevList;

    fn deref(&self) -> &MdevList {
        &self.guard
    }
}

impl DerefMut for ListGuard {
    fn deref_mut(&mut self) -> &mut MdevList {
        &mut self.guard
    }
}

#[cfg(mdev_lock_hold)]
impl Drop for ListGuard {
    fn drop(&mut self) {
        // Still under the mutex: the inner guard drops after this.
        let ns = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(0);
        self.guard.hold.record(self.section, ns);
    }
}

//! Limits checked while rendering (added by Herald's patch).
//!
//! A [`Budget`] is shared by every render of one unit of work (Herald: one
//! job). Blocks and filters charge it as they go, so a hostile template stops
//! at the limit instead of exhausting memory, stack or time. Renders that were
//! given no budget get one with the default limits.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::model::ValueView;

use super::Runtime;

/// The bounds a [`Budget`] enforces.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Loop iterations (`for`, `tablerow`) over all renders.
    pub max_loop_iterations: u64,
    /// Elements of one range (`(a..b)`), checked before it is built.
    pub max_range: u64,
    /// Bytes of one value built while rendering (filter results, captures).
    pub max_value_bytes: u64,
    /// Wall-clock time over all renders, from the budget's creation.
    pub max_render_time: Duration,
    /// Nested `include` / `render` calls.
    pub max_partial_depth: u32,
}

impl Limits {
    /// The configured value of the limit named `limit`, for messages.
    pub fn value_of(&self, limit: &str) -> String {
        match limit {
            "max_loop_iterations" => self.max_loop_iterations.to_string(),
            "max_range" => self.max_range.to_string(),
            "max_value_bytes" => self.max_value_bytes.to_string(),
            "max_render_time" => format!("{:?}", self.max_render_time),
            "max_partial_depth" => self.max_partial_depth.to_string(),
            _ => "?".to_owned(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_loop_iterations: 200_000,
            max_range: 100_000,
            max_value_bytes: 4 * 1024 * 1024,
            max_render_time: Duration::from_secs(2),
            max_partial_depth: 10,
        }
    }
}

/// What one unit of work may still spend.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    deadline: Instant,
    iterations: AtomicU64,
    partial_depth: AtomicU32,
    breached: Mutex<Option<&'static str>>,
}

impl Budget {
    /// A budget whose clock starts now.
    pub fn new(limits: Limits) -> Self {
        Budget {
            limits,
            deadline: Instant::now() + limits.max_render_time,
            iterations: AtomicU64::new(0),
            partial_depth: AtomicU32::new(0),
            breached: Mutex::new(None),
        }
    }

    /// The limits this budget enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The first limit that was exceeded, if any.
    pub fn breached(&self) -> Option<&'static str> {
        *self.breached.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a breach of `limit` and returns the error that stops the render.
    pub fn breach(&self, limit: &'static str) -> Error {
        let mut breached = self.breached.lock().unwrap_or_else(|e| e.into_inner());
        breached.get_or_insert(limit);
        Error::with_msg(format!("render limit exceeded: {limit}"))
    }

    /// Fails once the render time is spent.
    pub fn check_time(&self) -> Result<()> {
        if Instant::now() > self.deadline {
            return Err(self.breach("max_render_time"));
        }
        Ok(())
    }

    /// Charges one loop iteration (and checks the clock).
    pub fn iteration(&self) -> Result<()> {
        let spent = self.iterations.fetch_add(1, Ordering::Relaxed) + 1;
        if spent > self.limits.max_loop_iterations {
            return Err(self.breach("max_loop_iterations"));
        }
        self.check_time()
    }

    /// Fails for a range of more than `max_range` elements.
    pub fn range(&self, start: i64, stop: i64) -> Result<()> {
        let len = i128::from(stop) - i128::from(start) + 1;
        if len > i128::from(self.limits.max_range) {
            return Err(self.breach("max_range"));
        }
        Ok(())
    }

    /// Fails when `bytes` exceeds the size allowed for one value.
    pub fn value_len(&self, bytes: u64) -> Result<()> {
        if bytes > self.limits.max_value_bytes {
            return Err(self.breach("max_value_bytes"));
        }
        Ok(())
    }

    /// Fails when `value` is larger than one value may be.
    pub fn value(&self, value: &dyn ValueView) -> Result<()> {
        let mut remaining = self.limits.max_value_bytes;
        if !fits(value, &mut remaining, 0) {
            return Err(self.breach("max_value_bytes"));
        }
        Ok(())
    }

    /// Enters an `include` / `render`; the guard leaves it when dropped.
    pub fn enter_partial(self: &Arc<Self>) -> Result<PartialGuard> {
        let depth = self.partial_depth.fetch_add(1, Ordering::Relaxed) + 1;
        let guard = PartialGuard(Arc::clone(self));
        if depth > self.limits.max_partial_depth {
            return Err(self.breach("max_partial_depth"));
        }
        Ok(guard)
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(Limits::default())
    }
}

/// Leaves a partial when dropped.
#[derive(Debug)]
pub struct PartialGuard(Arc<Budget>);

impl Drop for PartialGuard {
    fn drop(&mut self) {
        self.0.partial_depth.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Subtracts the size of `value` from `remaining`; false once it runs out.
/// Values nested beyond 64 levels count as exhausting the budget.
fn fits(value: &dyn ValueView, remaining: &mut u64, depth: u32) -> bool {
    if depth > 64 {
        return false;
    }
    // 16 bytes for the value itself, then what it holds
    let own = 16 + if let Some(s) = value.as_scalar() {
        s.to_kstr().len() as u64
    } else if let Some(a) = value.as_array() {
        for v in a.values() {
            if !fits(v, remaining, depth + 1) {
                return false;
            }
        }
        0
    } else if let Some(o) = value.as_object() {
        for (k, v) in o.iter() {
            *remaining = remaining.saturating_sub(k.len() as u64);
            if !fits(v, remaining, depth + 1) {
                return false;
            }
        }
        0
    } else {
        0
    };
    if own > *remaining {
        return false;
    }
    *remaining -= own;
    true
}

/// The budget of the render `runtime` belongs to.
#[derive(Debug, Default)]
pub struct BudgetRegister(Option<Arc<Budget>>);

impl BudgetRegister {
    /// A register holding `budget`.
    pub fn new(budget: Arc<Budget>) -> Self {
        BudgetRegister(Some(budget))
    }
}

/// The budget of `runtime`'s render: the one it was given, else a default one
/// created on first use.
pub fn budget_of(runtime: &dyn Runtime) -> Arc<Budget> {
    let mut register = runtime.registers().get_mut::<BudgetRegister>();
    Arc::clone(register.0.get_or_insert_with(Default::default))
}

/// Gives `runtime`'s render `budget`.
pub fn set_budget(runtime: &dyn Runtime, budget: Arc<Budget>) {
    set_budget_in(runtime.registers(), budget);
}

/// Puts `budget` in `registers`.
pub fn set_budget_in(registers: &super::Registers, budget: Arc<Budget>) {
    *registers.get_mut::<BudgetRegister>() = BudgetRegister::new(budget);
}

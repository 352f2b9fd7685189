//! One job's render budget: every render of the job (subject, bodies, sender
//! fields, overrides) draws on the same loop iterations, output bytes and
//! time, so splitting a hostile template over fields gains nothing.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use liquid::{Object, Template};
use liquid_core::runtime::Budget;

use super::{one_line, RenderLimits, TemplateError};

/// What one job's renders may still spend.
#[derive(Debug)]
pub struct RenderBudget {
    budget: Arc<Budget>,
    max_output_bytes: u64,
    output_bytes: AtomicU64,
}

impl RenderBudget {
    /// A budget whose clock starts now.
    pub fn new(limits: &RenderLimits) -> RenderBudget {
        RenderBudget {
            budget: Arc::new(Budget::new(limits.core())),
            max_output_bytes: limits.max_output_bytes,
            output_bytes: AtomicU64::new(0),
        }
    }

    /// Renders `template`, charging this budget; past a limit the render
    /// stops where it is and the error names the limit.
    pub fn render(&self, template: &Template, globals: &Object) -> Result<String, TemplateError> {
        self.budget
            .check_time()
            .map_err(|e| self.error(e.to_string()))?;
        let mut out = CappedWriter {
            buffer: Vec::new(),
            budget: self,
        };
        let rendered = template.render_to_with_budget(&mut out, globals, Arc::clone(&self.budget));
        let buffer = out.buffer;
        match rendered {
            Ok(()) => String::from_utf8(buffer)
                .map_err(|_| TemplateError::Render("rendered text is not UTF-8".into())),
            Err(e) => Err(self.error(e.to_string())),
        }
    }

    /// Output bytes spent so far.
    pub fn output_bytes(&self) -> u64 {
        self.output_bytes.load(Ordering::Relaxed)
    }

    fn error(&self, message: String) -> TemplateError {
        let message = one_line(&message);
        let Some(limit) = self.budget.breached() else {
            return TemplateError::Render(message);
        };
        // the limit's value, then where the render stopped when Liquid says
        let value = match limit {
            "max_output_bytes" => self.max_output_bytes.to_string(),
            _ => self.budget.limits().value_of(limit),
        };
        let detail = match message.split_once(" from: ") {
            Some((_, trace)) => format!("{value}, from: {trace}"),
            None => value,
        };
        TemplateError::limit(limit, detail)
    }

    /// Charges `bytes` of output, checking the clock on the way.
    fn spend_output(&self, bytes: usize) -> std::io::Result<()> {
        let spent = self.output_bytes.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
        if spent > self.max_output_bytes {
            self.budget.breach("max_output_bytes");
            return Err(std::io::Error::other(
                "render limit exceeded: max_output_bytes",
            ));
        }
        self.budget.check_time().map_err(std::io::Error::other)
    }
}

/// The render's output buffer: it fails as soon as the job's output would
/// pass its cap, before the bytes are stored.
struct CappedWriter<'b> {
    buffer: Vec<u8>,
    budget: &'b RenderBudget,
}

impl Write for CappedWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.budget.spend_output(bytes.len())?;
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

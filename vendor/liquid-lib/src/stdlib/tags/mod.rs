mod assign_tag;
mod cycle_tag;
mod include_tag;
mod increment_tags;
mod interrupt_tags;
mod render_tag;

pub use self::assign_tag::AssignTag;
pub use self::cycle_tag::CycleTag;
pub use self::include_tag::IncludeTag;
pub use self::increment_tags::DecrementTag;
pub use self::increment_tags::IncrementTag;
pub use self::interrupt_tags::BreakTag;
pub use self::interrupt_tags::ContinueTag;
pub use self::render_tag::RenderTag;

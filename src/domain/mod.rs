//! Pure logic: validation newtypes, Markdown rendering, Dutch dates, slugs.
//! Nothing in here touches the network, the database or the clock.

pub mod dates;
pub mod limits;
pub mod markdown;
pub mod moderation;
pub mod thread;
pub mod validate;

//! Pure logic: validation newtypes, the stored states, Markdown rendering, Dutch dates,
//! slugs. Nothing in here touches the network, the database or the clock (the states
//! only say how they are stored).

pub mod dates;
pub mod html_markdown;
pub mod limits;
pub mod markdown;
pub mod moderation;
pub mod position;
pub mod preview;
pub mod privacy;
pub mod retention;
pub mod search;
pub mod states;
pub mod thread;
pub mod validate;
pub mod votes;

//! How far an import is: a bar on a terminal, a plain line now and then in a pipe or a
//! log, nothing on the site (its page shows the summary when the upload is done).

use std::{
    io::{IsTerminal, Write},
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Summary;

/// A plain line at most this often.
const LINE_EVERY: Duration = Duration::from_secs(2);

pub enum Progress {
    Bar(ProgressBar),
    Lines { total: u64, last: Option<Instant> },
    Silent,
}

impl Progress {
    /// A bar when stderr is a terminal, lines otherwise; `total` is the file's size.
    pub fn for_terminal(total: u64) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:40} {percent:>3}% {binary_bytes}/{binary_total_bytes} {msg}",
            ) {
                bar.set_style(style);
            }
            Self::Bar(bar)
        } else {
            Self::Lines { total, last: None }
        }
    }

    /// The reader is at byte `position`; `summary` is what was written so far.
    pub fn at(&mut self, position: u64, summary: &Summary) {
        let message = format!(
            "{} articles, {} reactions",
            summary.articles_added() + summary.articles_existing,
            summary.reactions_added() + summary.reactions_existing
        );
        match self {
            Self::Bar(bar) => {
                bar.set_position(position);
                bar.set_message(message);
            }
            Self::Lines { total, last } => {
                if last.is_none_or(|at| at.elapsed() >= LINE_EVERY) {
                    *last = Some(Instant::now());
                    let percent = (position * 100).checked_div(*total).unwrap_or(100).min(100);
                    let mut err = std::io::stderr().lock();
                    let _ = writeln!(err, "import: {percent:>3}% ({message})");
                }
            }
            Self::Silent => {}
        }
    }

    /// The file is read to its end.
    pub fn done(&mut self, summary: &Summary) {
        match self {
            Self::Bar(bar) => bar.finish_and_clear(),
            Self::Lines { total, last } => {
                *last = None;
                let total = *total;
                self.at(total, summary);
            }
            Self::Silent => {}
        }
    }
}

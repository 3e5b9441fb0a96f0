//! `kantlijn import disqus`: a Disqus export.

use tokio::io::AsyncBufRead;

use super::{ImportError, Importer, Progress};

/// Reads a Disqus export from `input` and writes it through `importer`.
pub async fn import<R: AsyncBufRead + Unpin>(
    input: R,
    importer: &mut Importer<'_>,
    progress: &mut Progress,
) -> Result<(), ImportError> {
    let _ = (input, importer, progress);
    Err(ImportError::NotDisqus(
        "the Disqus import is not built yet".to_owned(),
    ))
}

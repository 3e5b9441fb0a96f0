//! Admins import a WordPress or Disqus export by uploading it: the file streams from the
//! request into the importer (never whole in memory, never on disk), and the page shows
//! what the import did. The same import as `kantlijn import`, with the same summary.

use askama::Template;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Field, Multipart},
};
use tokio::io::{AsyncReadExt, BufReader};

use crate::{
    app::AppState,
    error::{AppError, AppResult},
    import::{self, ImportError, Importer, Progress, Summary},
    web::{
        auth::{AdminOnly, Authorized},
        middleware::csrf,
        render_with_status,
    },
};

/// The largest file the page takes; larger exports go through `kantlijn import`.
pub const MAX_UPLOAD_BYTES: u64 = 256 * 1024 * 1024;
/// The most a form field other than the file may hold.
const MAX_FIELD_BYTES: u64 = 1024;

/// A line of the summary: what, and how many.
pub struct Count {
    pub what: String,
    pub n: u64,
}

/// What an import did, in Dutch.
pub struct SummaryView {
    pub added: Vec<Count>,
    pub existing: Vec<Count>,
    pub skipped: Vec<Count>,
    pub fixes: Vec<Count>,
    pub drafted: Vec<String>,
    pub nothing_new: bool,
}

impl From<&Summary> for SummaryView {
    fn from(summary: &Summary) -> Self {
        let mut added: Vec<Count> = summary
            .articles
            .iter()
            .map(|(status, n)| Count {
                what: format!("artikelen ({})", status.label()),
                n: *n,
            })
            .collect();
        added.extend(summary.reactions.iter().map(|(status, n)| Count {
            what: format!("reacties ({})", status.state()),
            n: *n,
        }));
        Self {
            added,
            existing: vec![
                Count {
                    what: "artikelen".to_owned(),
                    n: summary.articles_existing,
                },
                Count {
                    what: "reacties".to_owned(),
                    n: summary.reactions_existing,
                },
            ],
            skipped: summary
                .skipped
                .iter()
                .map(|(why, n)| Count {
                    what: why.label_nl().to_owned(),
                    n: *n,
                })
                .collect(),
            fixes: summary
                .fixes
                .iter()
                .map(|(what, n)| Count {
                    what: what.label_nl().to_owned(),
                    n: *n,
                })
                .collect(),
            drafted: summary
                .drafted
                .iter()
                .map(|(title, why)| match why {
                    import::Fix::PasswordProtected => {
                        format!("{title} (beveiligd met een wachtwoord)")
                    }
                    _ => format!("{title} (ingepland)"),
                })
                .collect(),
            nothing_new: summary.articles_added() == 0 && summary.reactions_added() == 0,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    layout: crate::web::views::Layout,
    kind: String,
    pages: bool,
    error: Option<String>,
    summary: Option<SummaryView>,
    max_mb: u64,
}

impl ImportPage {
    fn new(user: &Authorized<AdminOnly>) -> Self {
        Self {
            layout: crate::web::views::Layout::for_staff(
                "Importeren",
                &user.staff,
                &user.csrf_token,
            ),
            kind: "wordpress".to_owned(),
            pages: false,
            error: None,
            summary: None,
            max_mb: MAX_UPLOAD_BYTES / (1024 * 1024),
        }
    }
}

/// The upload form.
#[handler]
pub async fn index(user: Authorized<AdminOnly>) -> AppResult<Response> {
    render_with_status(&ImportPage::new(&user), StatusCode::OK)
}

/// The form's fields before the file: its token, the kind of export and `pages`.
#[derive(Default)]
struct Fields {
    csrf_token: String,
    kind: String,
    pages: bool,
}

/// Reads a small field, at most [`MAX_FIELD_BYTES`] of it.
async fn small(field: Field) -> AppResult<String> {
    let mut text = String::new();
    field
        .into_async_read()
        .take(MAX_FIELD_BYTES)
        .read_to_string(&mut text)
        .await
        .map_err(|_| AppError::Invalid {
            field: "file",
            message: UNREADABLE,
        })?;
    Ok(text)
}

const UNREADABLE: crate::domain::validate::FieldMessage =
    crate::domain::validate::FieldMessage::new(
        "unreadable_upload",
        "Het formulier kwam niet goed aan. Kies het bestand opnieuw en probeer het nog eens.",
        "The form did not arrive intact.",
    );

/// Imports the uploaded file as it arrives, then shows what the import did.
#[handler]
pub async fn upload(
    Data(state): Data<&AppState>,
    user: Authorized<AdminOnly>,
    mut form: Multipart,
) -> AppResult<Response> {
    let mut fields = Fields::default();
    let mut page = ImportPage::new(&user);
    let file = loop {
        let field = form.next_field().await.map_err(|_| AppError::Invalid {
            field: "file",
            message: UNREADABLE,
        })?;
        let Some(field) = field else { break None };
        match field.name() {
            Some("file") => break Some(field),
            Some(csrf::FIELD_NAME) => fields.csrf_token = small(field).await?,
            Some("kind") => fields.kind = small(field).await?,
            Some("pages") => fields.pages = !small(field).await?.is_empty(),
            _ => {
                small(field).await?;
            }
        }
    };
    // Checked before a byte of the file is read: the token proves the form is this site's.
    if user.csrf_token.is_empty() || !constant_time_eq(&fields.csrf_token, &user.csrf_token) {
        return Err(AppError::Csrf);
    }
    page.kind = fields.kind.clone();
    page.pages = fields.pages;
    let Some(file) = file.filter(|f| f.file_name().is_some_and(|n| !n.is_empty())) else {
        page.error = Some("Kies een exportbestand om te importeren.".to_owned());
        return render_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let input = BufReader::with_capacity(256 * 1024, file.into_async_read());
    let mut importer = Importer::new(&state.db, fields.kind.clone(), Some(user.staff.id));
    let mut progress = Progress::Silent;
    let result = match fields.kind.as_str() {
        "wordpress" => {
            let options = import::wordpress::Options {
                pages: fields.pages,
            };
            import::wordpress::import(input, &mut importer, options, &mut progress).await
        }
        "disqus" => import::disqus::import(input, &mut importer, &mut progress).await,
        _ => {
            page.error = Some("Kies of het een WordPress- of een Disqus-export is.".to_owned());
            return render_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    tracing::info!(
        kind = %fields.kind,
        by = user.staff.id,
        articles = importer.summary.articles_added(),
        reactions = importer.summary.reactions_added(),
        "import through the site"
    );
    page.summary = Some(SummaryView::from(&importer.summary));
    match result {
        Ok(()) => render_with_status(&page, StatusCode::OK),
        Err(ImportError::Database(e)) => Err(e.into()),
        Err(err) => {
            page.error = err.message_nl();
            render_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// Compares two tokens in time that does not depend on where they differ.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

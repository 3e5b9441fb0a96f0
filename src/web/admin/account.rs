//! A staff member's own account: the e-mail address the site may write to, and for
//! moderators and admins the hourly digest of waiting reactions (`crate::digest`).

use askama::Template;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Query},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    domain::validate::{Email, FieldErrors, FieldMessage},
    error::{AppError, AppResult},
    store,
    web::{
        HtmlForm,
        admin::settings::SavedQuery,
        auth::{AnyStaff, Authorized},
        render_with_status, see_other,
        views::Layout,
    },
};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    email: String,
    digest: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/account.html")]
struct AccountPage {
    layout: Layout,
    username: String,
    email: String,
    digest: bool,
    /// Moderators and admins may have the digest.
    can_digest: bool,
    /// The site sends mail at all (`KANTLIJN_SMTP_URL`).
    sends_mail: bool,
    errors: FieldErrors,
    saved: bool,
}

const DIGEST_NEEDS_EMAIL: FieldMessage = FieldMessage::new(
    "email_required",
    "Vul een e-mailadres in om het overzicht te ontvangen.",
    "Fill in an e-mail address to receive the digest.",
);

fn page(
    state: &AppState,
    user: &Authorized<AnyStaff>,
    email: String,
    digest: bool,
    errors: FieldErrors,
    saved: bool,
) -> AccountPage {
    AccountPage {
        layout: Layout::for_staff("Mijn account", &user.staff, &user.csrf_token),
        username: user.staff.username.clone(),
        email,
        digest,
        can_digest: user.staff.role.can_moderate(),
        sends_mail: state.settings.mail.is_some(),
        errors,
        saved,
    }
}

#[handler]
pub async fn show(
    Data(state): Data<&AppState>,
    user: Authorized<AnyStaff>,
    Query(query): Query<SavedQuery>,
) -> AppResult<Response> {
    let account = store::users::find_by_id(state.db.read(), user.staff.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let page = page(
        state,
        &user,
        account.email.unwrap_or_default(),
        account.digest,
        FieldErrors::default(),
        query.is_saved(),
    );
    render_with_status(&page, StatusCode::OK)
}

#[handler]
pub async fn update(
    Data(state): Data<&AppState>,
    user: Authorized<AnyStaff>,
    HtmlForm(form): HtmlForm<AccountForm>,
) -> AppResult<Response> {
    let account = store::users::find_by_id(state.db.read(), user.staff.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::default();
    let email = match form.email.trim() {
        "" => Some(None),
        given => errors.check("email", Email::parse(given)).map(Some),
    };
    let sends_mail = state.settings.mail.is_some();
    // Without mail the checkbox is disabled, so the form cannot say: the choice stays.
    let digest = user.staff.role.can_moderate()
        && if sends_mail {
            form.digest.is_some()
        } else {
            account.digest
        };
    if sends_mail && digest && email == Some(None) {
        errors.insert("digest", DIGEST_NEEDS_EMAIL);
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        let page = page(state, &user, form.email, digest, errors, false);
        return render_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
    };
    // No address, no digest.
    let digest = digest && email.is_some();
    store::users::update_contact(state.db.write(), user.staff.id, email.as_ref(), digest).await?;
    tracing::info!(
        user = %user.staff.username,
        email = email.is_some(),
        digest,
        "account changed"
    );
    Ok(see_other("/beheer/account?opgeslagen=1"))
}

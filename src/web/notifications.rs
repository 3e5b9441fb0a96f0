//! The links in the site's mail: confirming reply notifications (double opt-in) and
//! unsubscribing. Following a link only shows a page with a button; the POST acts, so a
//! mail scanner that fetches every link confirms or stops nothing. The unsubscribe POST
//! is also RFC 8058's one-click: a mail client posts `List-Unsubscribe=One-Click`
//! without a cookie, so that route takes no CSRF token (its signed token is the proof).

use askama::Template;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path},
};

use crate::{
    app::AppState,
    error::AppResult,
    mail::links::{self, Unsubscribe},
    notifications::{self, Found},
    store,
    web::{auth::Viewer, render_with_status, see_other, views::Layout},
};

#[derive(Template)]
#[template(path = "mail_link.html")]
struct MailLinkPage {
    layout: Layout,
    shown: Shown,
}

/// What the page says.
enum Shown {
    /// The token is not ours, or names nothing (any more).
    Broken,
    ConfirmAsk {
        action: String,
    },
    Confirmed,
    UnsubscribeAsk {
        action: String,
        digest: bool,
    },
    /// `resubscribe`: where a reader who changed their mind confirms again (the
    /// confirmation route; only the holder of the mailed link gets here).
    Unsubscribed {
        digest: bool,
        resubscribe: Option<String>,
    },
}

/// Where a reader who unsubscribed may turn notifications on again.
fn resubscribe(state: &AppState, who: Unsubscribe) -> Option<String> {
    match who {
        Unsubscribe::Reader(id) => Some(format!(
            "/meldingen/bevestigen/{}",
            links::confirm_token(&state.keys, id)
        )),
        Unsubscribe::Digest(_) => None,
    }
}

fn page(viewer: &Viewer, shown: Shown) -> AppResult<Response> {
    let (title, status) = match shown {
        Shown::Broken => ("Deze link werkt niet", StatusCode::NOT_FOUND),
        Shown::ConfirmAsk { .. } | Shown::Confirmed => ("Meldingen van reacties", StatusCode::OK),
        Shown::UnsubscribeAsk { .. } | Shown::Unsubscribed { .. } => ("Afmelden", StatusCode::OK),
    };
    render_with_status(
        &MailLinkPage {
            layout: Layout::new(title, viewer),
            shown,
        },
        status,
    )
}

#[handler]
pub async fn confirm_form(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(id) = links::parse_confirm(&state.keys, &token) else {
        return page(&viewer, Shown::Broken);
    };
    let shown = match store::subscribers::find(state.db.read(), id).await? {
        None => Shown::Broken,
        Some(row) if row.confirmed_at.is_some() && row.unsubscribed_at.is_none() => {
            Shown::Confirmed
        }
        Some(_) => Shown::ConfirmAsk {
            action: format!("/meldingen/bevestigen/{token}"),
        },
    };
    page(&viewer, shown)
}

#[handler]
pub async fn confirm(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(id) = links::parse_confirm(&state.keys, &token) else {
        return page(&viewer, Shown::Broken);
    };
    match notifications::confirm(&state.db, id).await? {
        Found::Done => Ok(see_other(&format!("/meldingen/bevestigen/{token}"))),
        Found::Unknown => page(&viewer, Shown::Broken),
    }
}

#[handler]
pub async fn unsubscribe_form(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(who) = links::parse_unsubscribe(&state.keys, &token) else {
        return page(&viewer, Shown::Broken);
    };
    let digest = matches!(who, Unsubscribe::Digest(_));
    // (receiving mail now, the row still exists)
    let (receiving, exists) = match who {
        Unsubscribe::Reader(id) => {
            let row = store::subscribers::find(state.db.read(), id).await?;
            (
                row.as_ref().is_some_and(|r| r.unsubscribed_at.is_none()),
                row.is_some(),
            )
        }
        Unsubscribe::Digest(id) => {
            let user = store::users::find_by_id(state.db.read(), id).await?;
            (user.as_ref().is_some_and(|u| u.digest), user.is_some())
        }
    };
    let shown = if receiving {
        Shown::UnsubscribeAsk {
            action: format!("/afmelden/{token}"),
            digest,
        }
    } else {
        // An erased address has nothing to turn on again.
        Shown::Unsubscribed {
            digest,
            resubscribe: exists.then(|| resubscribe(state, who)).flatten(),
        }
    };
    page(&viewer, shown)
}

/// Stops the mail; answers 200 (a one-click client wants a 2xx, not a redirect), also
/// when it had stopped already or its row was erased since.
#[handler]
pub async fn unsubscribe(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(who) = links::parse_unsubscribe(&state.keys, &token) else {
        return page(&viewer, Shown::Broken);
    };
    let found = notifications::unsubscribe(&state.db, who).await?;
    page(
        &viewer,
        Shown::Unsubscribed {
            digest: matches!(who, Unsubscribe::Digest(_)),
            resubscribe: (found == Found::Done)
                .then(|| resubscribe(state, who))
                .flatten(),
        },
    )
}

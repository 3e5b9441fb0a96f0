//! Moderators work the queue, act on reactions one by one or in bulk, ban senders, and
//! read the log of who did what.

use std::collections::HashMap;

use askama::Template;
use poem::{
    Response, handler,
    web::{Data, Html, Query},
};
use sea_orm::Iterable;
use serde::Deserialize;

use crate::{
    app::AppState,
    discussion::{self, Action},
    domain::{
        dates,
        markdown::{self, SafeHtml},
        moderation::{AuthorKey, History, Rule},
        states::{CommentStatus, LogAction},
        validate::ModerationReason,
    },
    entity::comments,
    error::{AppError, AppResult},
    store::{
        self,
        audit::LogRow,
        bans::Kind,
        comments::{AuthorCounts, QueueComment, QueueFilter, SameAuthor},
    },
    web::{
        HtmlForm,
        auth::{Authorized, Moderate},
        render, see_other,
        views::{DateView, Layout},
    },
};

/// How many reactions one queue page shows.
const QUEUE_LIMIT: u64 = 200;
const LOG_LIMIT: u64 = 300;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    status: String,
    article: String,
    bijgewerkt: Option<usize>,
    zelfde_email: String,
    zelfde_adres: String,
}

/// Where in the queue a moderator is: the tab, the article and the author filter, which
/// every link and form of the page carries along.
#[derive(Clone, Debug)]
pub struct Place {
    status: CommentStatus,
    article: String,
    /// The reactions of the same author as reaction N, by this key.
    author: Option<(AuthorKey, i32)>,
}

impl Place {
    /// Reads the fields as the queue's URL and forms name them; an unknown status is
    /// the pending tab, a reaction number that is no number is no filter.
    fn read(status: &str, article: &str, email: &str, address: &str) -> Self {
        let author = AuthorKey::ALL
            .into_iter()
            .zip([email, address])
            .find_map(|(key, value)| value.trim().parse().ok().map(|id| (key, id)));
        Self {
            status: CommentStatus::parse(status).unwrap_or(CommentStatus::Pending),
            article: article.to_owned(),
            author,
        }
    }

    fn url(&self) -> String {
        let mut url = format!("/beheer/moderatie?status={}", self.status.as_str());
        if !self.article.is_empty() {
            url.push_str("&article=");
            url.extend(url::form_urlencoded::byte_serialize(
                self.article.as_bytes(),
            ));
        }
        if let Some((key, id)) = self.author {
            url.push_str(&format!("&{}={id}", key.param()));
        }
        url
    }

    /// A tab per status, with its count, keeping the other filters.
    fn tabs(&self, counts: &HashMap<CommentStatus, i64>) -> Vec<TabView> {
        CommentStatus::iter()
            .map(|status| TabView {
                label: status.label(),
                status: status.as_str(),
                url: Self {
                    status,
                    ..self.clone()
                }
                .url(),
                count: counts.get(&status).copied().unwrap_or(0),
                current: status == self.status,
            })
            .collect()
    }

    fn author_view(&self) -> Option<AuthorFilterView> {
        self.author.map(|(key, id)| AuthorFilterView {
            param: key.param(),
            id,
            key_label: key.label(),
            clear_url: Self {
                author: None,
                ..self.clone()
            }
            .url(),
        })
    }
}

pub struct TabView {
    pub label: &'static str,
    pub status: &'static str,
    pub url: String,
    pub count: i64,
    pub current: bool,
}

pub struct ArticleOption {
    pub slug: String,
    pub title: String,
    pub selected: bool,
}

/// The author filter, as the page states it.
pub struct AuthorFilterView {
    /// The query parameter and reaction number, for the page's forms.
    pub param: &'static str,
    pub id: i32,
    pub key_label: &'static str,
    /// The queue without the author filter.
    pub clear_url: String,
}

/// The reaction an item answers, quoted.
#[derive(Clone)]
pub struct ParentView {
    pub id: i32,
    /// `None` when it was deleted: the quote says "[reactie verwijderd]" instead.
    pub author_name: Option<String>,
    pub excerpt: String,
    /// Where it stands, in Dutch; `None` when it is gone altogether.
    pub state: Option<&'static str>,
}

/// "Andere reacties van dit e-mailadres: 3 goedgekeurd · 1 afgewezen · 0 spam".
pub struct HistoryLine {
    pub key: &'static str,
    pub key_label: &'static str,
    /// `None` when the item's e-mail address or address hash was erased.
    pub counts: Option<Vec<CountLink>>,
}

/// One count of a history line, linking to those reactions.
pub struct CountLink {
    pub count: i64,
    pub state: &'static str,
    pub status: &'static str,
    pub url: String,
}

pub struct QueueItem {
    pub id: i32,
    pub article_title: String,
    pub article_url: String,
    pub parent: Option<ParentView>,
    pub history: Vec<HistoryLine>,
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub ip_prefix: String,
    pub by_staff: bool,
    pub rule: Option<&'static str>,
    pub body: SafeHtml,
    pub created: DateView,
    pub created_relative: String,
    /// Listed under "Uitgelicht" above its article's thread.
    pub featured: bool,
    /// "Uitlichten" or "Niet meer uitlichten", on the approved tab.
    pub feature_button: Option<ActionButton>,
}

/// A button that applies an action to one reaction.
pub struct ActionButton {
    pub value: &'static str,
    pub label: &'static str,
    pub class: &'static str,
}

#[derive(Template)]
#[template(path = "admin/moderation.html")]
struct QueuePage {
    layout: Layout,
    status: &'static str,
    status_label: &'static str,
    article: String,
    author: Option<AuthorFilterView>,
    /// Why an author filter in the URL was left out.
    dropped_filter: bool,
    tabs: Vec<TabView>,
    articles: Vec<ArticleOption>,
    items: Vec<QueueItem>,
    /// The actions that change a reaction of this tab (not the one it is already in).
    buttons: Vec<ActionButton>,
    /// Every action, for the selection.
    bulk: Vec<ActionButton>,
    updated: Option<usize>,
    limit: u64,
}

/// One reaction's buttons: each action that moves it out of `status`.
fn buttons(status: CommentStatus) -> Vec<ActionButton> {
    Action::STATUS
        .into_iter()
        .filter(|a| a.target() != Some(status))
        .map(|action| ActionButton::new(action, false))
        .collect()
}

/// The buttons under the selection: every status, and on the approved tab featuring.
fn bulk_buttons(status: CommentStatus) -> Vec<ActionButton> {
    Action::ALL
        .into_iter()
        .filter(|a| a.target().is_some() || status == CommentStatus::Approved)
        .map(|action| ActionButton::new(action, true))
        .collect()
}

/// The featuring button of an approved reaction: the one that changes it.
fn feature_button(status: CommentStatus, featured: bool) -> Option<ActionButton> {
    let action = if featured {
        Action::Unfeature
    } else {
        Action::Feature
    };
    (status == CommentStatus::Approved).then(|| ActionButton::new(action, false))
}

impl ActionButton {
    fn new(action: Action, selection: bool) -> Self {
        let (one, all) = match action {
            Action::Approve => ("Goedkeuren", "Selectie goedkeuren"),
            Action::Reject => ("Afwijzen", "Selectie afwijzen"),
            Action::Spam => ("Spam", "Selectie is spam"),
            Action::Delete => ("Verwijderen", "Selectie verwijderen"),
            Action::Feature => ("Uitlichten", "Selectie uitlichten"),
            Action::Unfeature => ("Niet meer uitlichten", "Selectie niet meer uitlichten"),
        };
        Self {
            value: action.as_str(),
            label: if selection { all } else { one },
            class: match action {
                Action::Delete => "danger",
                Action::Feature | Action::Unfeature => "secondary",
                _ => action.as_str(),
            },
        }
    }
}

#[handler]
pub async fn queue(
    Data(state): Data<&AppState>,
    user: Authorized<Moderate>,
    Query(query): Query<QueueQuery>,
) -> AppResult<Html<String>> {
    let mut place = Place::read(
        &query.status,
        &query.article,
        &query.zelfde_email,
        &query.zelfde_adres,
    );
    let articles = store::articles::list_all(state.db.read()).await?;
    let article_id = articles
        .iter()
        .find(|a| a.slug == place.article)
        .map(|a| a.id);
    if article_id.is_none() {
        place.article.clear();
    }
    let asked_author = query.zelfde_email.len() + query.zelfde_adres.len() > 0;
    let filter = QueueFilter {
        article_id,
        same_author: same_author(state, &mut place).await?,
    };
    let counts = store::comments::status_counts(state.db.read(), &filter).await?;
    let rows =
        store::comments::queue(state.db.read(), place.status, &filter, None, QUEUE_LIMIT).await?;
    let items = queue_items(state, rows).await?;
    let page = QueuePage {
        layout: Layout::for_staff("Moderatie", &user.staff, &user.csrf_token),
        status: place.status.as_str(),
        status_label: place.status.label(),
        author: place.author_view(),
        dropped_filter: asked_author && place.author.is_none(),
        tabs: place.tabs(&counts),
        articles: articles
            .into_iter()
            .map(|a| ArticleOption {
                selected: a.slug == place.article,
                slug: a.slug,
                title: a.title,
            })
            .collect(),
        article: place.article,
        items,
        buttons: buttons(place.status),
        bulk: bulk_buttons(place.status),
        updated: query.bijgewerkt,
        limit: QUEUE_LIMIT,
    };
    render(&page)
}

/// The author filter of `place`, read from the reaction it names; a reaction that does
/// not exist drops the filter from `place`.
async fn same_author(state: &AppState, place: &mut Place) -> AppResult<Option<SameAuthor>> {
    let Some((key, id)) = place.author else {
        return Ok(None);
    };
    let found = store::comments::find(state.db.read(), id).await?;
    if found.is_none() {
        place.author = None;
    }
    Ok(found.map(|comment| SameAuthor::of(&comment, key)))
}

/// The queue's rows as the page shows them: with the rule that held each one, the
/// reaction each one answers, and what else their author wrote.
async fn queue_items(state: &AppState, rows: Vec<QueueComment>) -> AppResult<Vec<QueueItem>> {
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let rules = store::audit::latest_rules(state.db.read(), &ids).await?;
    let parent_ids: Vec<i32> = rows.iter().filter_map(|r| r.parent_id).collect();
    let parents: HashMap<i32, ParentView> =
        store::comments::find_many(state.db.read(), &parent_ids)
            .await?
            .into_iter()
            .map(|p| (p.id, parent_view(p)))
            .collect();
    let histories = Histories::read(state, &rows).await?;
    let now = chrono::Utc::now();
    Ok(rows
        .into_iter()
        .map(|r| QueueItem {
            id: r.id,
            article_url: format!("/artikelen/{}#reactie-{}", r.article_slug, r.id),
            history: histories.lines(&r),
            article_title: r.article_title,
            parent: r.parent_id.map(|p| {
                parents.get(&p).map_or_else(
                    || ParentView {
                        id: p,
                        author_name: None,
                        excerpt: String::new(),
                        state: None,
                    },
                    ParentView::clone,
                )
            }),
            author_name: r.author_name,
            author_email: r.author_email,
            author_url: r.author_url,
            ip_prefix: r.ip_hash.chars().take(10).collect(),
            by_staff: r.user_id.is_some(),
            rule: rules
                .get(&r.id)
                .and_then(|name| Rule::from_name(name))
                .map(Rule::label),
            body: SafeHtml::from_stored(r.body_html),
            created_relative: dates::relative(r.created_at, now),
            created: DateView::new(r.created_at),
            featured: r.featured_at.is_some(),
            feature_button: feature_button(r.status, r.featured_at.is_some()),
        })
        .collect())
}

/// How many characters of the parent reaction's text the queue quotes.
const QUOTE_LENGTH: usize = 200;

fn parent_view(parent: comments::Model) -> ParentView {
    let deleted = parent.status == CommentStatus::Deleted;
    ParentView {
        id: parent.id,
        author_name: (!deleted).then_some(parent.author_name),
        excerpt: if deleted {
            String::new()
        } else {
            markdown::reaction_excerpt(&parent.body_md, QUOTE_LENGTH)
        },
        state: Some(parent.status.state()),
    }
}

/// Every author key's counts per status for one queue page, read in one grouped query
/// per key.
struct Histories(Vec<(AuthorKey, AuthorCounts)>);

impl Histories {
    async fn read(state: &AppState, rows: &[QueueComment]) -> AppResult<Self> {
        let mut all = Vec::new();
        for key in AuthorKey::ALL {
            let values: Vec<&str> = rows.iter().map(|r| key_value(r, key)).collect();
            let counts =
                store::comments::author_counts(state.db.read(), key, &values, &History::COUNTED)
                    .await?;
            all.push((key, counts));
        }
        Ok(Self(all))
    }

    fn lines(&self, row: &QueueComment) -> Vec<HistoryLine> {
        self.0
            .iter()
            .map(|(key, counts)| {
                let value = key_value(row, *key);
                let history = History::of_others(
                    |status| {
                        counts
                            .get(&(value.to_owned(), status))
                            .copied()
                            .unwrap_or(0)
                    },
                    row.status,
                );
                HistoryLine {
                    key: key.param(),
                    key_label: key.label(),
                    counts: (!value.is_empty()).then(|| {
                        History::COUNTED
                            .into_iter()
                            .map(|status| CountLink {
                                count: history.get(status),
                                state: status.state(),
                                status: status.as_str(),
                                url: Place {
                                    status,
                                    article: String::new(),
                                    author: Some((*key, row.id)),
                                }
                                .url(),
                            })
                            .collect()
                    }),
                }
            })
            .collect()
    }
}

fn key_value(row: &QueueComment, key: AuthorKey) -> &str {
    match key {
        AuthorKey::Email => &row.author_email,
        AuthorKey::Address => &row.ip_hash,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActForm {
    ids: Vec<String>,
    action: String,
    /// A per-item button: `action:id`.
    item: String,
    reason: String,
    status: String,
    article: String,
    zelfde_email: String,
    zelfde_adres: String,
    /// Back to this article page instead of the queue (its staff forms).
    terug: String,
}

/// Where a form on an article page returns to: only a page of `/artikelen`, never
/// another site.
fn article_return(wanted: &str) -> Option<&str> {
    let local = wanted.starts_with("/artikelen/")
        && !wanted.contains("//")
        && !wanted.contains('\\')
        // Also what a `Location` header can carry as it is.
        && wanted.chars().all(|c| c.is_ascii_graphic());
    local.then_some(wanted)
}

#[handler]
pub async fn act(
    Data(state): Data<&AppState>,
    user: Authorized<Moderate>,
    HtmlForm(form): HtmlForm<ActForm>,
) -> AppResult<Response> {
    let (action, ids) = match form.item.split_once(':') {
        Some((action, id)) => (action, id.parse().ok().into_iter().collect()),
        None => (
            form.action.as_str(),
            form.ids
                .iter()
                .filter_map(|id| id.parse().ok())
                .collect::<Vec<i32>>(),
        ),
    };
    let action = Action::parse(action).ok_or(AppError::Refused(
        "Kies wat er met de reacties moet gebeuren: goedkeuren, afwijzen, spam, verwijderen, uitlichten of niet meer uitlichten.",
    ))?;
    let reason =
        ModerationReason::parse_optional(&form.reason).map_err(|message| AppError::Invalid {
            field: "reason",
            message,
        })?;
    let changed = discussion::moderate(
        &state.db,
        &ids,
        action,
        user.staff.id,
        reason.as_ref(),
        crate::notifications::Mailer::of(state).as_ref(),
    )
    .await?;
    state.metrics.moderated(action.as_str(), changed);
    if let Some(article_page) = article_return(&form.terug) {
        return Ok(see_other(article_page));
    }
    let place = Place::read(
        &form.status,
        &form.article,
        &form.zelfde_email,
        &form.zelfde_adres,
    );
    Ok(see_other(&format!("{}&bijgewerkt={changed}", place.url())))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BanForm {
    comment_id: String,
    kind: String,
    days: String,
    reason: String,
    status: String,
    article: String,
    zelfde_email: String,
    zelfde_adres: String,
}

#[handler]
pub async fn ban(
    Data(state): Data<&AppState>,
    user: Authorized<Moderate>,
    HtmlForm(form): HtmlForm<BanForm>,
) -> AppResult<Response> {
    let refused = AppError::Refused(
        "Deze blokkade kon niet worden ingesteld: kies een reactie, e-mail of adres, en een geldig aantal dagen.",
    );
    let Some(kind) = Kind::parse(&form.kind) else {
        return Err(refused);
    };
    let days = match form.days.trim() {
        "" => None,
        days => match days.parse::<i64>() {
            Ok(d) if (1..=3650).contains(&d) => Some(d),
            _ => return Err(refused),
        },
    };
    let comment = match form.comment_id.parse() {
        Ok(id) => store::comments::find(state.db.read(), id)
            .await?
            .ok_or(AppError::NotFound)?,
        Err(_) => return Err(refused),
    };
    let reason =
        ModerationReason::parse_optional(&form.reason).map_err(|message| AppError::Invalid {
            field: "reason",
            message,
        })?;
    discussion::ban(
        &state.db,
        &comment,
        kind,
        days,
        reason.as_ref(),
        user.staff.id,
    )
    .await?;
    let place = Place::read(
        &form.status,
        &form.article,
        &form.zelfde_email,
        &form.zelfde_adres,
    );
    Ok(see_other(&place.url()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LogQuery {
    actor: String,
    action: String,
}

pub struct LogRowView {
    pub when: DateView,
    pub when_text: String,
    pub actor: String,
    pub action: &'static str,
    pub comment_id: i32,
    pub change: String,
    pub reason: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "admin/log.html")]
struct LogPage {
    layout: Layout,
    rows: Vec<LogRowView>,
    actors: Vec<Choice>,
    actions: Vec<Choice>,
    limit: u64,
}

#[handler]
pub async fn log(
    Data(state): Data<&AppState>,
    user: Authorized<Moderate>,
    Query(query): Query<LogQuery>,
) -> AppResult<Html<String>> {
    let names = actor_names(state).await?;
    let actor = Some(query.actor.as_str()).filter(|a| names.contains_key(*a));
    let action = LogAction::parse(&query.action);
    let rows = store::audit::list(state.db.read(), actor, action, LOG_LIMIT).await?;
    let mut actors: Vec<Choice> = names
        .iter()
        .map(|(value, label)| Choice {
            selected: actor == Some(value.as_str()),
            value: value.clone(),
            label: label.clone(),
        })
        .collect();
    actors.sort_by(|a, b| a.label.cmp(&b.label));
    let page = LogPage {
        layout: Layout::for_staff("Logboek", &user.staff, &user.csrf_token),
        rows: rows.into_iter().map(|r| log_row(r, &names)).collect(),
        actors,
        actions: LogAction::iter()
            .map(|value| Choice {
                selected: action == Some(value),
                value: value.as_str().to_owned(),
                label: value.label().to_owned(),
            })
            .collect(),
        limit: LOG_LIMIT,
    };
    render(&page)
}

/// Who may appear as the actor of a log row, by the value stored: staff by their id, the
/// rules and readers by their names.
async fn actor_names(state: &AppState) -> AppResult<HashMap<String, String>> {
    let mut names: HashMap<String, String> = store::users::list(state.db.read())
        .await?
        .into_iter()
        .map(|u| (u.id.to_string(), u.username))
        .collect();
    names.insert(
        store::audit::SYSTEM.to_owned(),
        "systeem (regels)".to_owned(),
    );
    names.insert(store::audit::READER.to_owned(), "lezer".to_owned());
    Ok(names)
}

fn log_row(row: LogRow, names: &HashMap<String, String>) -> LogRowView {
    LogRowView {
        when_text: dates::exact(row.created_at),
        when: DateView::new(row.created_at),
        actor: names
            .get(&row.actor)
            .cloned()
            .unwrap_or_else(|| format!("gebruiker {}", row.actor)),
        action: row.action.label(),
        comment_id: row.comment_id,
        change: match row.from_status {
            Some(from) => format!("{} → {}", from.label(), row.to_status.label()),
            None => row.to_status.label().to_owned(),
        },
        reason: row
            .reason
            .map(|reason| Rule::from_name(&reason).map_or(reason, |rule| rule.label().to_owned()))
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_article_page_is_the_only_place_to_return_to() {
        let page = "/artikelen/lerarenportfolio?reactie=3#reactie-3";
        assert_eq!(article_return(page), Some(page));
        for elsewhere in [
            "",
            "/",
            "https://evil.example/artikelen/x",
            "//evil.example/artikelen/x",
            "/artikelen//evil.example",
            "/artikelen/\\evil.example",
            "/beheer/moderatie",
            "/artikelen/x\r\nSet-Cookie: a=b",
            "/artikelen/coöperatie",
        ] {
            assert_eq!(article_return(elsewhere), None, "{elsewhere:?}");
        }
    }
}

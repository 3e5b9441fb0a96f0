//! The pages every reader sees, and the health check. The article page comes from the
//! page cache for every reader but staff and those with reactions of their own on it.

use std::{collections::HashMap, time::Instant};

use askama::Template;
use chrono::{DateTime, Utc};
use poem::{
    IntoResponse, Request, Response, handler,
    http::{HeaderValue, StatusCode, header},
    web::{Data, Path, Query, cookie::CookieJar},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    discussion,
    domain::{
        dates,
        markdown::{self, SafeHtml},
        states::CommentStatus,
        thread::{PAGE_SIZE, Sort, Thread},
    },
    entity::articles,
    error::{AppError, AppResult},
    security,
    store::{self, Scope, articles::Cursor, comments::ThreadComment},
    web::{
        self,
        auth::Viewer,
        page_cache::{self, Fills, Key, ThreadIndex, Value},
        reactions::{self, OwnReactions},
        recent, render, render_with_status,
        threads::{self, Slot},
        views::{
            ArticlePage, ArticleSummaryView, DateView, FeaturedView, IndexPage, Layout,
            PaginationView, ReactionFormView, ReactionView, SortLinkView, reaction_count_label,
        },
    },
};

/// Articles on one page of the front page.
const INDEX_PAGE: u64 = 20;
/// How many characters of a featured reaction the "Uitgelicht" block quotes.
const FEATURED_EXCERPT: usize = 160;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IndexQuery {
    /// Continue after this cursor (the "Oudere artikelen" link).
    voor: Option<String>,
}

/// The front page: from the page cache for everyone but staff.
#[handler]
pub async fn index(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    req: &Request,
    Query(query): Query<IndexQuery>,
) -> AppResult<Response> {
    let started = Instant::now();
    let versions = state.db.versions();
    let fills = Fills {
        csrf: &viewer.csrf_token,
        form_token: "",
    };
    let after = query.voor.as_deref().and_then(Cursor::decode);
    let key = Key::Home(after.map(Cursor::encode));
    if viewer.staff.is_none()
        && let Some(Value::Page(rendered)) = state.pages.get(&key, versions)
    {
        return Ok(rendered.respond(req, &fills, true));
    }
    let made = versions.snapshot(Scope::Site);
    let mut page = index_page(state, &viewer, after).await?;
    // A new site without staff changes without a write through this process (the first
    // account comes from the CLI), so its front page is never kept.
    if viewer.staff.is_some() || page.needs_first_admin {
        return Ok(render(&page)?.into_response());
    }
    page.layout.csrf_token = state.pages.holes().csrf().to_owned();
    let html = page.render().map_err(AppError::internal)?;
    let rendered = state
        .pages
        .keep(key, &html, page_cache::HTML, made, versions, started);
    Ok(rendered.respond(req, &fills, false))
}

/// The front page's articles after `after`, newest first.
async fn index_page(
    state: &AppState,
    viewer: &Viewer,
    after: Option<Cursor>,
) -> AppResult<IndexPage> {
    let mut articles =
        store::articles::published_page(state.db.read(), after, INDEX_PAGE + 1).await?;
    let older_url = (articles.len() as u64 > INDEX_PAGE)
        .then(|| {
            articles.truncate(INDEX_PAGE as usize);
            articles.last().and_then(Cursor::after)
        })
        .flatten()
        .map(|cursor| format!("/?voor={}", cursor.encode()));
    let needs_first_admin =
        articles.is_empty() && after.is_none() && store::users::count(state.db.read()).await? == 0;
    let recent = match after {
        None => store::comments::recent_approved(state.db.read(), 0, recent::ON_HOME).await?,
        Some(_) => Vec::new(),
    };
    Ok(IndexPage {
        layout: Layout::new("Artikelen", viewer),
        articles: articles
            .into_iter()
            .map(|a| ArticleSummaryView {
                slug: a.slug,
                title: a.title,
                summary: a.summary,
                published: a.published_at.map(DateView::new),
                reaction_count: reaction_count_label(a.reaction_count),
            })
            .collect(),
        needs_first_admin,
        older_url,
        recent: recent.into_iter().map(recent::item_view).collect(),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    /// A reaction to show: the page that holds it opens (a permalink, or the poster's
    /// own after posting).
    reactie: Option<i32>,
    /// The reaction to reply to (the "Reageer" link without JavaScript).
    antwoord: Option<i32>,
    /// The page of the thread, 1-based.
    pagina: Option<String>,
    /// The order of the top-level reactions: `oud` (default), `nieuw`, `nuttig`.
    sorteer: Option<String>,
}

/// Which page of a thread to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageWanted {
    Number(usize),
    /// The page that holds this reaction (the first when it is not shown).
    Holding(i32),
}

impl ShowQuery {
    /// The order asked for; an unknown one is the default, not an error.
    fn sort(&self) -> Sort {
        Sort::from_query(self.sorteer.as_deref())
    }

    /// `?pagina=` wins, then the reaction asked for or replied to; a page number that is
    /// not a positive number is a page that does not exist.
    fn wanted(&self) -> AppResult<PageWanted> {
        match (&self.pagina, self.reactie.or(self.antwoord)) {
            (Some(page), _) => {
                web::page_number(page, usize::MAX as u64).map(|n| PageWanted::Number(n as usize))
            }
            (None, Some(id)) => Ok(PageWanted::Holding(id)),
            (None, None) => Ok(PageWanted::Number(1)),
        }
    }
}

#[handler]
pub async fn show(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    cookies: &CookieJar,
    req: &Request,
    Path(slug): Path<String>,
    Query(query): Query<ShowQuery>,
) -> AppResult<Response> {
    let wanted = query.wanted()?;
    let sort = query.sort();
    let own = OwnReactions::from_cookies(&state.keys, cookies);
    if viewer.staff.is_none()
        && query.antwoord.is_none()
        && let Some(response) =
            public_article(state, &viewer, req, &slug, (wanted, sort), &own).await?
    {
        return Ok(response);
    }
    let article = store::articles::find_readable(state.db.read(), &slug, viewer.staff.is_some())
        .await?
        .ok_or(AppError::NotFound)?;
    let form = article
        .reactions_open
        .then(|| ReactionFormView::empty(state, &article, query.antwoord).sorted(sort));
    let context = ArticleContext {
        own: &own,
        form,
        wanted,
        sort,
    };
    render_article(state, &viewer, &article, context, StatusCode::OK).await
}

/// The article page as every reader without reactions of their own on it sees it: from
/// the page cache, or rendered into it. `None` for a viewer who has reactions only they
/// see (waiting, or still editable): their page is rendered for them alone.
async fn public_article(
    state: &AppState,
    viewer: &Viewer,
    req: &Request,
    slug: &str,
    (wanted, sort): (PageWanted, Sort),
    own: &OwnReactions,
) -> AppResult<Option<Response>> {
    let started = Instant::now();
    let known = threads::index(state, slug, sort).await?;
    if !threads::own_on_article(state.db.read(), known.article.id, own, Utc::now())
        .await?
        .is_empty()
    {
        return Ok(None);
    }
    let page = match wanted {
        PageWanted::Number(page) => page,
        PageWanted::Holding(id) => known.page_of(id).unwrap_or(1),
    };
    if page == 0 || page > known.pages() {
        return Err(AppError::NotFound);
    }
    let form_token = reactions::form_token(&state.keys);
    let fills = Fills {
        csrf: &viewer.csrf_token,
        form_token: &form_token,
    };
    let versions = state.db.versions();
    let key = Key::ArticlePage(slug.to_owned(), page, sort);
    if let Some(Value::Page(rendered)) = state.pages.get(&key, versions) {
        return Ok(Some(rendered.respond(req, &fills, true)));
    }
    let html = public_page(state, &known, page, sort).await?;
    // The index is current as of its snapshot; what was read since is at least as new.
    let rendered = state
        .pages
        .keep(key, &html, page_cache::HTML, known.made, versions, started);
    Ok(Some(rendered.respond(req, &fills, false)))
}

/// One page of an article in one order as everybody sees it, with placeholders for the
/// visitor's tokens.
async fn public_page(
    state: &AppState,
    known: &ThreadIndex,
    page: usize,
    sort: Sort,
) -> AppResult<String> {
    let holes = state.pages.holes();
    let layout = Layout {
        title: known.article.title.clone(),
        staff: None,
        csrf_token: holes.csrf().to_owned(),
    };
    let form = known.article.reactions_open.then(|| {
        let mut form = ReactionFormView::empty(state, &known.article, None).sorted(sort);
        form.form_token = holes.form_token().to_owned();
        form
    });
    let shown = ShownPage {
        thread: known
            .laid
            .thread
            .page(page, PAGE_SIZE)
            .ok_or(AppError::NotFound)?,
        page,
        pages: known.pages(),
        approved: known.laid.approved,
        sort,
    };
    let view = article_page(
        state,
        layout,
        &known.article,
        &[],
        form,
        shown,
        StaffTools::default(),
    )
    .await?;
    view.render().map_err(AppError::internal)
}

/// What besides the article itself shapes its page.
pub struct ArticleContext<'a> {
    pub own: &'a OwnReactions,
    pub form: Option<ReactionFormView>,
    pub wanted: PageWanted,
    /// The order of the top-level reactions.
    pub sort: Sort,
}

/// The article page for one viewer: with their waiting reactions, edit links and the
/// staff bar, never cached.
pub async fn render_article(
    state: &AppState,
    viewer: &Viewer,
    article: &articles::Model,
    context: ArticleContext<'_>,
    status: StatusCode,
) -> AppResult<Response> {
    let own = threads::own_on_article(state.db.read(), article.id, context.own, Utc::now()).await?;
    let laid = threads::lay_out(state.db.read(), article.id, &own, context.sort).await?;
    let page = match context.wanted {
        PageWanted::Number(page) => page,
        PageWanted::Holding(id) => laid.thread.page_of(id, PAGE_SIZE).unwrap_or(1),
    };
    let shown = ShownPage {
        pages: laid.thread.page_count(PAGE_SIZE),
        approved: laid.approved,
        thread: laid
            .thread
            .into_page(page, PAGE_SIZE)
            .ok_or(AppError::NotFound)?,
        page,
        sort: context.sort,
    };
    let tools = StaffTools {
        edit_url: viewer
            .staff
            .as_ref()
            .filter(|s| s.role.can_edit_articles())
            .map(|_| format!("/beheer/artikelen/{}/bewerken", article.id)),
        moderate: viewer.staff.as_ref().is_some_and(|s| s.role.can_moderate()),
    };
    let page = article_page(
        state,
        Layout::new(article.title.clone(), viewer),
        article,
        &own,
        context.form,
        shown,
        tools,
    )
    .await?;
    let mut response = render_with_status(&page, status)?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// One page of a laid-out thread, and where it sits.
struct ShownPage {
    thread: Thread<Slot>,
    page: usize,
    pages: usize,
    /// Approved reactions in the whole thread.
    approved: usize,
    sort: Sort,
}

/// What staff get on an article page besides what readers see; nothing in a cached page.
#[derive(Default)]
struct StaffTools {
    /// The editor's link, for editors and admins.
    edit_url: Option<String>,
    /// A form per reaction to feature it, for moderators and admins.
    moderate: bool,
}

/// Reads the reactions on the page and the featured ones, and builds the view.
async fn article_page(
    state: &AppState,
    layout: Layout,
    article: &articles::Model,
    own: &[ThreadComment],
    mut form: Option<ReactionFormView>,
    shown: ShownPage,
    tools: StaffTools,
) -> AppResult<ArticlePage> {
    let ShownPage {
        thread,
        page,
        pages,
        approved,
        sort,
    } = shown;
    let (contents, featured) = tokio::try_join!(
        threads::contents(state.db.read(), article.id, &thread, own),
        store::comments::featured_on(state.db.read(), article.id),
    )?;
    let now = Utc::now();
    let mut thread = thread.map(|slot| reaction_view(slot, &contents, own, now));
    let sort_param = sort
        .in_links()
        .map(|value| format!("&sorteer={value}"))
        .unwrap_or_default();
    for row in &mut thread.rows {
        row.item.reply_to = row.reply_to.map(|parent| {
            contents.get(&parent).map_or_else(
                || "een verwijderde reactie".to_owned(),
                |c| c.author_name.clone(),
            )
        });
    }
    if let Some(form) = form.as_mut() {
        form.parent_name = thread
            .rows
            .iter()
            .find(|r| r.item.id.to_string() == form.parent_id && !r.tombstone && !r.item.pending)
            .map(|r| r.item.author_name.clone());
    }
    let page_url = |n: usize, sort: Sort| {
        let mut query = Vec::new();
        if n > 1 {
            query.push(format!("pagina={n}"));
        }
        if let Some(value) = sort.in_links() {
            query.push(format!("sorteer={value}"));
        }
        if query.is_empty() {
            format!("/artikelen/{}#reacties", article.slug)
        } else {
            format!("/artikelen/{}?{}#reacties", article.slug, query.join("&"))
        }
    };
    let (prev_label, next_label) = match sort {
        Sort::Oldest => ("Oudere reacties", "Nieuwere reacties"),
        Sort::Newest => ("Nieuwere reacties", "Oudere reacties"),
        Sort::Helpful => ("Vorige reacties", "Volgende reacties"),
    };
    // A single top-level reaction has no order to choose.
    let sorts = if thread.root_count() > 1 || page > 1 {
        Sort::ALL
            .into_iter()
            .map(|option| SortLinkView::new(option, page_url(1, option), option == sort))
            .collect()
    } else {
        Vec::new()
    };
    Ok(ArticlePage {
        layout,
        slug: article.slug.clone(),
        title: article.title.clone(),
        summary: article.summary.clone(),
        published: article.published_at.map(DateView::new),
        body: SafeHtml::from_stored(article.body_html.clone()),
        is_draft: !article.status.is_published(),
        edit_url: tools.edit_url,
        reactions_open: article.reactions_open,
        count_label: reaction_count_label(approved as i64),
        featured: featured
            .into_iter()
            .map(|f| FeaturedView {
                url: format!(
                    "/artikelen/{}?reactie={}{sort_param}#reactie-{}",
                    article.slug, f.id, f.id
                ),
                excerpt: markdown::reaction_excerpt(&f.body_md, FEATURED_EXCERPT),
                author_name: f.author_name,
            })
            .collect(),
        moderate: tools.moderate,
        sorts,
        sort_param,
        sort_value: sort.in_links(),
        thread,
        pagination: (pages > 1).then(|| PaginationView {
            page,
            pages,
            prev_url: (page > 1).then(|| page_url(page - 1, sort)),
            prev_label,
            next_url: (page < pages).then(|| page_url(page + 1, sort)),
            next_label,
        }),
        form,
    })
}

/// One slot of a page as the template shows it: the content for a visible reaction,
/// nothing (not even who wrote it) for a placeholder.
fn reaction_view(
    slot: Slot,
    contents: &HashMap<i32, ThreadComment>,
    own: &[ThreadComment],
    now: DateTime<Utc>,
) -> ReactionView {
    let Some(comment) = contents.get(&slot.id).filter(|_| slot.visible) else {
        return ReactionView::placeholder(slot.id, slot.parent_id);
    };
    let is_own = own.iter().any(|c| c.id == slot.id);
    let approved = comment.status == CommentStatus::Approved;
    // The poster of a reaction the rules sent to spam is told it waits, like any other.
    let own_waiting = is_own && !approved;
    ReactionView {
        id: comment.id,
        parent_id: comment.parent_id,
        by_staff: comment.user_id.is_some(),
        featured: comment.featured_at.is_some() && approved,
        body: SafeHtml::from_stored(comment.body_html.clone()),
        created_relative: dates::relative(comment.created_at, now),
        created: DateView::new(comment.created_at),
        created_exact: dates::exact(comment.created_at),
        pending: own_waiting,
        visible: true,
        // `own` holds only reactions whose key this browser holds.
        editable: is_own && discussion::editable(comment.status, comment.created_at, now),
        reply_to: None,
        helpful_count: comment.helpful_count,
        author_url: comment.author_url.clone(),
        author_name: comment.author_name.clone(),
    }
}

/// Prometheus text format, for a scraper with the metrics token alone: the counters say
/// what the site's answers keep to themselves (how many reactions were taken for spam).
#[handler]
pub async fn metrics(Data(state): Data<&AppState>, req: &Request) -> Response {
    let given = req
        .header(header::AUTHORIZATION)
        .and_then(security::bearer_token);
    let allowed = match (&state.settings.metrics_token, given) {
        (Some(token), Some(given)) => security::same_secret(token.expose(), given.as_bytes()),
        _ => false,
    };
    if !allowed {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")
            .content_type("text/plain; charset=utf-8")
            .body(
                "Voor /metrics is een token nodig: start de server met KANTLIJN_METRICS_TOKEN \
                 en laat Prometheus het meesturen als Authorization: Bearer <token>.\n",
            );
    }
    Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(
            state
                .metrics
                .render(state.db.read(), state.limiters.is_shared()),
        )
}

/// 200 when the database answers, 503 when it does not.
#[handler]
pub async fn healthz(Data(state): Data<&AppState>) -> AppResult<Response> {
    store::ping(state.db.read())
        .await
        .map_err(AppError::Unavailable)?;
    Ok((StatusCode::OK, "ok").into_response())
}

//! Reactions: the public tree of an article, and posting through the same path as the form.

use std::{collections::HashMap, sync::Arc, time::Instant};

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::ToJSON,
};

use crate::{
    app::AppState,
    discussion::{self, Outcome, RawComment, Submission},
    domain::{position::Position, thread},
    entity::articles,
    error::AppError,
    store,
    store::comments::ThreadComment,
    web::{
        api::{
            Answers, ApiError, ApiTags, MaybeToken, PostComment, ShowTree,
            cached::CachedJson,
            fields,
            objects::{CommentCreated, CommentState, CommentTree, NewComment, PublicComment},
        },
        middleware::client_ip::ClientIp,
        page_cache::{Fills, Key, Value},
        threads::{self, Slot},
    },
};

/// Replies nest at most this deep in the JSON; deeper ones hang at this depth, and
/// `parent_id` always names their real parent.
const MAX_JSON_DEPTH: usize = 50;

pub struct CommentsApi;

/// The tree, made once per change and answered from memory.
#[derive(ApiResponse)]
pub enum TreeAnswer {
    /// The tree (gzip when asked for), with an `ETag`.
    #[oai(status = 200)]
    Tree(CachedJson<CommentTree>),
    /// The client's copy (`If-None-Match`) is current.
    #[oai(status = 304)]
    NotModified(CachedJson<CommentTree>),
}

impl TreeAnswer {
    fn of(response: poem::Response) -> Self {
        if response.status() == poem::http::StatusCode::NOT_MODIFIED {
            Self::NotModified(CachedJson::new(response))
        } else {
            Self::Tree(CachedJson::new(response))
        }
    }
}

/// The content type of cached JSON.
const JSON: &str = "application/json; charset=utf-8";

#[derive(ApiResponse)]
pub enum CommentPosted {
    /// Stored; `status` says whether it is visible yet.
    #[oai(status = 201)]
    Created(Json<CommentCreated>),
}

/// Nests the laid-out rows (approved reactions and placeholders, parents first).
fn nest(
    rows: Vec<thread::Row<Slot>>,
    contents: &HashMap<i32, ThreadComment>,
) -> Vec<PublicComment> {
    let mut roots: Vec<PublicComment> = Vec::new();
    // The path of indices from a root down to the most recent node at each depth.
    let mut path: Vec<usize> = Vec::new();
    let mut depth_of: HashMap<i32, usize> = HashMap::new();
    for row in rows {
        let slot = row.item;
        let depth = slot
            .parent_id
            .and_then(|p| depth_of.get(&p))
            .map_or(0, |d| (d + 1).min(MAX_JSON_DEPTH - 1));
        depth_of.insert(slot.id, depth);
        // A placeholder says nothing of its author: no name, no site, no date.
        let shown = contents.get(&slot.id).filter(|_| !row.tombstone);
        let node = PublicComment {
            id: slot.id,
            parent_id: slot.parent_id,
            author_name: shown.map(|c| c.author_name.clone()).unwrap_or_default(),
            author_url: shown.and_then(|c| c.author_url.clone()),
            body_html: shown.map(|c| c.body_html.clone()).unwrap_or_default(),
            created_at: shown.map(|c| c.created_at),
            by_staff: shown.is_some_and(|c| c.user_id.is_some()),
            featured: shown.is_some_and(|c| c.featured_at.is_some()),
            helpful_count: shown.map_or(0, |c| c.helpful_count),
            deleted: shown.is_none(),
            replies: Vec::new(),
        };
        path.truncate(depth);
        let mut siblings = &mut roots;
        for &index in &path {
            siblings = &mut siblings[index].replies;
        }
        siblings.push(node);
        path.push(siblings.len() - 1);
    }
    roots
}

/// The `take` top-level reactions after `after` (with their replies), and the cursor of
/// the page after it, if any.
fn page_after(
    thread: &thread::Thread<Slot>,
    after: Option<Position>,
    take: usize,
) -> (thread::Thread<Slot>, Option<String>) {
    let skip = after.map_or(0, |after| {
        thread
            .rows
            .iter()
            .filter(|r| r.depth == 1)
            .take_while(|r| (r.item.created_at, i64::from(r.item.id)) <= (after.at, after.id))
            .count()
    });
    let page = thread.roots(skip, take);
    let next_cursor = (skip + take < thread.root_count())
        .then(|| page.rows.iter().rev().find(|r| r.depth == 1))
        .flatten()
        .map(|r| {
            Position {
                at: r.item.created_at,
                id: r.item.id.into(),
            }
            .encode()
        });
    (page, next_cursor)
}

/// The tree of a draft, for staff: read now, never kept in the page cache (which only
/// ever holds what every reader may see).
async fn draft_tree(
    state: &AppState,
    article: &articles::Model,
    after: Option<Position>,
    take: usize,
) -> Result<TreeAnswer, ApiError> {
    let laid = threads::lay_out(state.db.read(), article.id, &[], thread::Sort::Oldest).await?;
    let (page, next_cursor) = page_after(&laid.thread, after, take);
    let contents = threads::contents(state.db.read(), article.id, &page, &[]).await?;
    let tree = CommentTree {
        article: article.slug.clone(),
        count: laid.approved as i64,
        comments: nest(page.rows, &contents),
        next_cursor,
    };
    let response = poem::Response::builder()
        .content_type(JSON)
        .header(poem::http::header::CACHE_CONTROL, "no-store")
        .body(tree.to_json_string());
    Ok(TreeAnswer::Tree(CachedJson::new(response)))
}

#[OpenApi(tag = "ApiTags::Comments")]
impl CommentsApi {
    /// The approved reactions of a published article (with a staff token, of a draft
    /// too), as a tree, oldest first, in pages of top-level reactions (each with all its
    /// replies).
    #[oai(path = "/articles/:slug/comments", method = "get")]
    async fn tree(
        &self,
        state: Data<&AppState>,
        req: &Request,
        slug: Path<String>,
        auth: MaybeToken,
        /// Continue after this cursor (`next_cursor` of the previous page).
        cursor: Query<Option<fields::Cursor>>,
        /// Top-level reactions per page: 50 when absent; below 1 counts as 1, above 100
        /// as 100.
        #[oai(validator(minimum(value = "0"), maximum(value = "4294967295")))]
        limit: Query<Option<u32>>,
    ) -> Result<TreeAnswer, Answers<ShowTree>> {
        let started = Instant::now();
        let staff = auth.user(req).await?.is_some();
        let after = match &cursor.0 {
            Some(text) => Some(
                Position::decode(&text.0)
                    .ok_or_else(|| ApiError::bad_request("This cursor was not given out here."))?,
            ),
            None => None,
        };
        let take = limit.0.unwrap_or(thread::PAGE_SIZE as u32).clamp(1, 100) as usize;
        let known = match threads::index(&state, &slug.0, thread::Sort::Oldest).await {
            Ok(known) => known,
            // A draft (staff only), or an article renamed since: read it by what it is now.
            Err(AppError::NotFound) => {
                match store::articles::find_readable(state.db.read(), &slug.0, staff).await? {
                    Some(renamed) if renamed.status.is_published() && renamed.slug != slug.0 => {
                        threads::index(&state, &renamed.slug, thread::Sort::Oldest).await?
                    }
                    Some(draft) if staff => {
                        return Ok(draft_tree(&state, &draft, after, take).await?);
                    }
                    _ if staff => {
                        return Err(ApiError::not_found("No article has this slug.").into());
                    }
                    _ => {
                        return Err(
                            ApiError::not_found("No published article has this slug.").into()
                        );
                    }
                }
            }
            Err(other) => return Err(other.into()),
        };
        let versions = state.db.versions();
        let key = Key::ApiTree(
            known.article.slug.clone(),
            after.map(Position::encode),
            take,
        );
        let no_holes = Fills {
            csrf: "",
            form_token: "",
        };
        if let Some(Value::Page(rendered)) = state.pages.get(&key, versions) {
            return Ok(TreeAnswer::of(rendered.respond(req, &no_holes, true)));
        }
        let (page, next_cursor) = page_after(&known.laid.thread, after, take);
        let contents = threads::contents(state.db.read(), known.article.id, &page, &[]).await?;
        let tree = CommentTree {
            article: known.article.slug.clone(),
            count: known.laid.approved as i64,
            comments: nest(page.rows, &contents),
            next_cursor,
        };
        let rendered = state.pages.keep(
            key,
            &tree.to_json_string(),
            JSON,
            known.made,
            versions,
            started,
        );
        Ok(TreeAnswer::of(rendered.respond(req, &no_holes, false)))
    }

    /// Post a reaction. The same validation, rules, rate limit and moderation log as
    /// the site's form apply. With a staff token the reaction is the editorial team's
    /// (approved at once, as on the site), and drafts take one too.
    #[oai(path = "/articles/:slug/comments", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: MaybeToken,
        slug: Path<String>,
        body: Json<NewComment>,
    ) -> Result<CommentPosted, Answers<PostComment>> {
        let staff = auth.user(req).await?;
        let article = match staff {
            None => threads::published_article(&state, &slug.0).await?,
            Some(_) => store::articles::find_readable(state.db.read(), &slug.0, true)
                .await?
                .map(Arc::new),
        }
        .ok_or_else(|| ApiError::not_found("No published article has this slug."))?;
        let input = RawComment {
            author_name: &body.0.author_name.0,
            author_email: &body.0.author_email.0,
            author_url: body.0.author_url.as_ref().map_or("", |u| u.0.as_str()),
            body: &body.0.body.0,
            parent_id: Ok(body.0.parent_id),
        };
        let client = ClientIp::of(req, &state.settings.trusted_proxies);
        let submission = Submission {
            article: &article,
            input,
            staff_user_id: staff.map(|user| user.id),
            address: client.address_hash(&state.keys),
            form: None,
            notify_replies: body.0.notify_replies.unwrap_or(false),
            mailer: crate::notifications::Mailer::of(&state),
        };
        let rules = state.rules.get(state.db.read()).await?;
        match discussion::submit(&state.db, rules, &state.metrics, submission).await? {
            Outcome::Stored { comment, .. } => {
                // Like the form, never tell a spammer that the rules caught them.
                let status = match CommentState::from(comment.status) {
                    CommentState::Spam => CommentState::Pending,
                    other => other,
                };
                Ok(CommentPosted::Created(Json(CommentCreated {
                    id: comment.id,
                    status,
                })))
            }
            // Which ids are approved reactions here is no shape a spec can give: a
            // well-formed request naming another one clashes with the thread as it is.
            Outcome::Invalid(errors) if errors.iter().all(|(field, _)| field == "parent_id") => {
                Err(ApiError::invalid_parent(&errors).into())
            }
            Outcome::Invalid(errors) => Err(ApiError::validation(&errors).into()),
            Outcome::Banned => Err(ApiError::banned().into()),
            Outcome::Closed => Err(ApiError::reactions_closed().into()),
        }
    }
}

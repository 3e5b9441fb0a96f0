//! Reactions: the public tree of an article, and posting through the same path as the form.

use std::collections::HashMap;

use poem::{Request, web::Data};
use poem_openapi::{ApiResponse, OpenApi, param::Path, payload::Json};

use crate::{
    app::AppState,
    discussion::{self, CommentInput, Outcome, RawComment, Submission},
    domain::thread::{self, Threaded},
    entity::articles,
    store::{
        self,
        comments::{Status, ThreadComment},
    },
    web::{
        api::{
            ApiError, ApiTags,
            objects::{CommentCreated, CommentState, CommentTree, NewComment, PublicComment},
        },
        middleware::client_ip::ClientIp,
    },
};

/// Replies nest at most this deep in the JSON; deeper ones hang at this depth, and
/// `parent_id` always names their real parent.
const MAX_JSON_DEPTH: usize = 50;

pub struct CommentsApi;

#[derive(ApiResponse)]
pub enum CommentPosted {
    /// Stored; `status` says whether it is visible yet.
    #[oai(status = 201)]
    Created(Json<CommentCreated>),
}

struct Node(ThreadComment);

impl Threaded for Node {
    fn id(&self) -> i32 {
        self.0.id
    }
    fn parent_id(&self) -> Option<i32> {
        self.0.parent_id
    }
    fn author_name(&self) -> &str {
        &self.0.author_name
    }
    fn is_visible(&self) -> bool {
        self.0.status == Status::Approved.as_str()
    }
}

async fn published(state: &AppState, slug: &str) -> Result<articles::Model, ApiError> {
    store::articles::find_readable(state.db.read(), slug, false)
        .await?
        .ok_or_else(|| ApiError::not_found("No published article has this slug."))
}

/// Nests the laid-out rows (approved reactions and tombstones, parents first).
fn nest(rows: Vec<thread::Row<Node>>) -> Vec<PublicComment> {
    let mut roots: Vec<PublicComment> = Vec::new();
    // The path of indices from a root down to the most recent node at each depth.
    let mut path: Vec<usize> = Vec::new();
    let mut depth_of: HashMap<i32, usize> = HashMap::new();
    for row in rows {
        let c = row.item.0;
        let depth = c
            .parent_id
            .and_then(|p| depth_of.get(&p))
            .map_or(0, |d| (d + 1).min(MAX_JSON_DEPTH - 1));
        depth_of.insert(c.id, depth);
        let node = PublicComment {
            id: c.id,
            parent_id: c.parent_id,
            author_name: c.author_name,
            author_url: c.author_url,
            body_html: if row.tombstone {
                String::new()
            } else {
                c.body_html
            },
            created_at: c.created_at,
            by_staff: c.user_id.is_some(),
            deleted: row.tombstone,
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

#[OpenApi(tag = "ApiTags::Comments")]
impl CommentsApi {
    /// The approved reactions of a published article, as a tree.
    #[oai(path = "/articles/:slug/comments", method = "get")]
    async fn tree(
        &self,
        state: Data<&AppState>,
        slug: Path<String>,
    ) -> Result<Json<CommentTree>, ApiError> {
        let article = published(&state, &slug.0).await?;
        let rows = store::comments::for_article(state.db.read(), article.id).await?;
        let count = rows
            .iter()
            .filter(|c| c.status == Status::Approved.as_str())
            .count();
        let laid_out = thread::build(rows.into_iter().map(Node).collect());
        Ok(Json(CommentTree {
            article: article.slug,
            count: count as i64,
            comments: nest(laid_out.rows),
        }))
    }

    /// Post a reaction. The same validation, rules, rate limit and moderation log as
    /// the site's form apply.
    #[oai(path = "/articles/:slug/comments", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        req: &Request,
        slug: Path<String>,
        body: Json<NewComment>,
    ) -> Result<CommentPosted, ApiError> {
        let article = published(&state, &slug.0).await?;
        if !article.reactions_open {
            return Err(ApiError::reactions_closed());
        }
        let parent = body
            .0
            .parent_id
            .map(|id| id.to_string())
            .unwrap_or_default();
        let raw = RawComment {
            author_name: &body.0.author_name,
            author_email: &body.0.author_email,
            author_url: body.0.author_url.as_deref().unwrap_or(""),
            body: &body.0.body,
            parent_id: &parent,
        };
        let input = CommentInput::try_from(raw).map_err(|errors| ApiError::validation(&errors))?;
        let client = ClientIp::of(req, &state.settings.trusted_proxies);
        let submission = Submission {
            article: &article,
            input,
            staff_user_id: None,
            ip_hash: state.keys.ip_hash(&client.key()),
            form: None,
        };
        let rules = state.rules.get(state.db.read()).await?;
        match discussion::submit(&state.db, &rules, submission).await? {
            Outcome::Stored { comment, .. } => {
                state.metrics.reaction_posted(&comment.status);
                // Like the form, never tell a spammer that the rules caught them.
                let status = match CommentState::from_stored(&comment.status) {
                    CommentState::Spam => CommentState::Pending,
                    other => other,
                };
                Ok(CommentPosted::Created(Json(CommentCreated {
                    id: comment.id,
                    status,
                })))
            }
            Outcome::Invalid(errors) => Err(ApiError::validation(&errors)),
            Outcome::Banned => Err(ApiError::banned()),
        }
    }
}

//! Staff endpoints: the moderation queue and decisions, with a bearer token.

use poem::web::Data;
use poem_openapi::{
    OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::{
    app::AppState,
    discussion::{self, Action},
    domain::{
        position::IdPosition,
        states::{CommentStatus, Role},
        validate::{FieldErrors, ModerationReason},
    },
    store,
    web::api::{
        Answers, ApiError, ApiTags, Moderate, ShowQueue, TokenAuth, fields,
        objects::{CommentState, ModerationRequest, ModerationResult, QueueComment, QueueList},
        page_size,
    },
};

pub struct ModerationApi;

#[OpenApi(tag = "ApiTags::Moderation")]
impl ModerationApi {
    /// Reactions with one status (moderators and admins); pending ones oldest first,
    /// the others newest first.
    #[oai(path = "/moderation/queue", method = "get")]
    async fn queue(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        /// `pending` when absent.
        status: Query<Option<CommentState>>,
        /// Page size: 20 when absent; below 1 counts as 1, above 100 as 100.
        #[oai(validator(minimum(value = "0"), maximum(value = "4294967295")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<fields::IdCursor>>,
    ) -> Result<Json<QueueList>, Answers<ShowQueue>> {
        ApiError::require(&auth.0, Role::can_moderate)?;
        let status = status.0.map_or(CommentStatus::Pending, CommentStatus::from);
        let after = match &cursor.0 {
            Some(c) => Some(
                IdPosition::decode(&c.0)
                    .ok_or_else(|| ApiError::bad_request("The cursor is not valid."))?,
            ),
            None => None,
        };
        let size = page_size(limit.0);
        let mut rows = store::comments::queue(
            state.db.read(),
            status,
            &store::comments::QueueFilter::default(),
            after,
            size + 1,
        )
        .await?;
        let more = rows.len() as u64 > size;
        rows.truncate(size as usize);
        let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
        let rules = store::audit::latest_rules(state.db.read(), &ids).await?;
        let next_cursor = more
            .then(|| rows.last().map(|r| r.id.to_string()))
            .flatten();
        Ok(Json(QueueList {
            items: rows
                .into_iter()
                .map(|r| QueueComment {
                    rule: rules.get(&r.id).cloned(),
                    id: r.id,
                    article_slug: r.article_slug,
                    article_title: r.article_title,
                    parent_id: r.parent_id,
                    author_name: r.author_name,
                    author_email: r.author_email,
                    author_url: r.author_url,
                    ip_hash_prefix: r.ip_hash.chars().take(10).collect(),
                    body_html: r.body_html,
                    status: r.status.into(),
                    created_at: r.created_at,
                })
                .collect(),
            next_cursor,
        }))
    }

    /// Approve, reject, mark as spam or delete one reaction, or feature it above the
    /// thread and stop featuring it (moderators and admins). Only an approved reaction
    /// can be featured: another one is answered with 409 `not_approved`.
    #[oai(path = "/comments/:id/moderation", method = "post")]
    async fn moderate(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        id: Path<i32>,
        body: Json<ModerationRequest>,
    ) -> Result<Json<ModerationResult>, Answers<Moderate>> {
        ApiError::require(&auth.0, Role::can_moderate)?;
        if store::comments::find(state.db.read(), id.0)
            .await?
            .is_none()
        {
            return Err(ApiError::not_found("No reaction has this id.").into());
        }
        let action = Action::from(body.0.action);
        let mut errors = FieldErrors::default();
        let Some(reason) = errors.check(
            "reason",
            ModerationReason::parse_optional(body.0.reason.as_ref().map_or("", |r| r.0.as_str())),
        ) else {
            return Err(ApiError::validation(&errors).into());
        };
        let changed = discussion::moderate(
            &state.db,
            &[id.0],
            action,
            auth.0.id,
            reason.as_ref(),
            crate::notifications::Mailer::of(&state).as_ref(),
        )
        .await?;
        state.metrics.moderated(action.as_str(), changed);
        let comment = store::comments::find(state.db.read(), id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("No reaction has this id."))?;
        Ok(Json(ModerationResult {
            id: comment.id,
            status: comment.status.into(),
            featured: comment.featured_at.is_some(),
        }))
    }
}

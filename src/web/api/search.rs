//! `GET /search?q=`: the site's search as JSON.

use poem::web::Data;
use poem_openapi::{OpenApi, param::Query, payload::Json};

use crate::{
    app::AppState,
    domain::search::{self, snippet_html, snippet_text},
    search::find,
    web::{
        api::{
            Answers, ApiError, ApiTags, SearchSite, fields,
            objects::{SearchKind, SearchResult, SearchResults},
        },
        search::clean_query,
    },
};

pub struct SearchApi;

/// The most results one request asks for.
const MAX_LIMIT: u32 = 50;
/// The furthest a search pages (`cursor`), in results.
const MAX_OFFSET: u64 = 10_000;

#[OpenApi(tag = "ApiTags::Search")]
impl SearchApi {
    /// Published articles and approved reactions that hold every word of `q` (Dutch
    /// aware: "registers" finds "register", "cooperatie" finds "coöperatie"; `"a
    /// phrase"` in that order; `-word` excluded; anything else is taken literally), best
    /// first, each with a snippet whose found words are marked.
    #[oai(path = "/search", method = "get")]
    async fn search(
        &self,
        state: Data<&AppState>,
        /// What to look for; at most 500 characters are read.
        q: Query<Option<String>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<fields::SearchCursor>>,
        /// Page size: 20 when absent; below 1 counts as 1, above 50 as 50.
        #[oai(validator(minimum(value = "0"), maximum(value = "4294967295")))]
        limit: Query<Option<u32>>,
    ) -> Result<Json<SearchResults>, Answers<SearchSite>> {
        // A number past the last page the API gives is a page with nothing on it.
        let offset = match &cursor.0 {
            None => 0,
            Some(c) if (1..=5).contains(&c.0.len()) && c.0.bytes().all(|b| b.is_ascii_digit()) => {
                c.0.parse::<u64>().unwrap_or(u64::MAX)
            }
            Some(_) => return Err(ApiError::bad_request("The cursor is not valid.").into()),
        };
        let size = u64::from(limit.0.unwrap_or(20).clamp(1, MAX_LIMIT));
        let query = search::Query::parse(&clean_query(q.0.as_deref().unwrap_or("")));
        let results = if query.is_empty() || offset > MAX_OFFSET {
            Default::default()
        } else {
            find(&state.db, &query, offset, size).await?
        };
        let next_cursor =
            (results.more && offset + size <= MAX_OFFSET).then(|| (offset + size).to_string());
        Ok(Json(SearchResults {
            items: results
                .found
                .into_iter()
                .map(|f| SearchResult {
                    kind: if f.reaction_id.is_some() {
                        SearchKind::Reaction
                    } else {
                        SearchKind::Article
                    },
                    comment_id: f.reaction_id,
                    author_name: f.reaction_by,
                    article_title: f.article_title,
                    url: f.url,
                    at: f.at,
                    snippet: snippet_text(&f.snippet),
                    snippet_html: snippet_html(&f.snippet),
                })
                .collect(),
            next_cursor,
        }))
    }
}

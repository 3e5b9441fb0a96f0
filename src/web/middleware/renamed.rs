//! Links under an article's former slug. A page there that found nothing is sent on to
//! the article under the slug it has now: 301 for a read, 308 for a form, which the
//! browser sends again with everything the reader typed. Only a 404 costs the lookup.

use poem::{
    Endpoint, IntoResponse, Request, Response, Result,
    http::{Method, StatusCode, header},
};

use crate::{app::AppState, store};

const PAGES: &str = "/artikelen/";

pub async fn redirect<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let asked = req.uri().path_and_query().map(|p| p.as_str().to_owned());
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    let state = req.data::<AppState>().cloned();
    let response = next.call(req).await?.into_response();
    if response.status() != StatusCode::NOT_FOUND {
        return Ok(response);
    }
    let (Some(asked), Some(state)) = (asked, state) else {
        return Ok(response);
    };
    let Some((former, rest)) = split(&asked) else {
        return Ok(response);
    };
    let found = match store::articles::renamed_from(state.db.read(), former).await {
        Ok(Some(id)) => store::articles::find_by_id(state.db.read(), id).await,
        Ok(None) => return Ok(response),
        Err(err) => Err(err),
    };
    // A draft's new slug is not for readers to learn.
    let Ok(Some(article)) = found else {
        return Ok(response);
    };
    if !article.status.is_published() {
        return Ok(response);
    }
    let status = if read {
        StatusCode::MOVED_PERMANENTLY
    } else {
        StatusCode::PERMANENT_REDIRECT
    };
    Ok(Response::builder()
        .status(status)
        .header(header::LOCATION, format!("{PAGES}{}{rest}", article.slug))
        .finish())
}

/// `/artikelen/{slug}{rest}` as the slug and the rest (path and query after it).
fn split(path_and_query: &str) -> Option<(&str, &str)> {
    let after = path_and_query.strip_prefix(PAGES)?;
    let end = after.find(['/', '?']).unwrap_or(after.len());
    let (slug, rest) = after.split_at(end);
    (!slug.is_empty()).then_some((slug, rest))
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn split_takes_the_slug_and_keeps_the_rest() {
        assert_eq!(split("/artikelen/oud"), Some(("oud", "")));
        assert_eq!(
            split("/artikelen/oud?pagina=2&reactie=5"),
            Some(("oud", "?pagina=2&reactie=5"))
        );
        assert_eq!(split("/artikelen/oud/feed.xml"), Some(("oud", "/feed.xml")));
        assert_eq!(split("/artikelen/"), None);
        assert_eq!(split("/artikelen?x"), None);
        assert_eq!(split("/reacties/oud"), None);
    }
}

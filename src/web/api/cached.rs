//! A JSON answer taken from the page cache: the bytes (plain or gzip, or a 304) were made
//! once, but the spec still describes them as the object they encode.

use std::marker::PhantomData;

use poem::{IntoResponse, Response};
use poem_openapi::{
    payload::Payload,
    registry::{MetaSchemaRef, Registry},
    types::Type,
};

/// A cached response whose body is `T` as JSON.
pub struct CachedJson<T>(pub Response, PhantomData<fn() -> T>);

impl<T> CachedJson<T> {
    pub fn new(response: Response) -> Self {
        Self(response, PhantomData)
    }
}

impl<T: Type> Payload for CachedJson<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Send> IntoResponse for CachedJson<T> {
    fn into_response(self) -> Response {
        self.0
    }
}

//! The route table's builder. Every route of the gateway is registered
//! through a [`RouteTable`], which mounts it on actix with the guard of its
//! access class and, in the same call, records its method and path. The
//! record is what `openapi`'s drift test compares with the OpenAPI document,
//! so a route cannot be added, moved or removed without the spec following.

use actix_web::{
    FromRequest, Handler, Responder,
    http::Method,
    middleware::from_fn,
    web::{self, ServiceConfig},
};

use super::access;

/// Who may call a resource (the README's access table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No guard: the handler authenticates itself, or the route is open.
    Public,
    /// A read or admin token.
    Readers,
    /// An ingest, read or admin token.
    Operators,
    /// The admin token (404 without one configured).
    Admins,
    /// The metrics token when one is configured.
    MetricsReaders,
}

/// One registered operation: its method and its path in OpenAPI form
/// (`/images/{key}` for actix's `/images/{key:.*}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub method: Method,
    pub path: String,
}

/// A resource being built: its path, access class and routes by method.
pub struct Resource {
    path: &'static str,
    access: Access,
    inner: actix_web::Resource,
    methods: Vec<Method>,
}

impl Resource {
    pub fn new(access: Access, path: &'static str) -> Self {
        Self { path, access, inner: web::resource(path), methods: Vec::new() }
    }

    pub fn get<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on(Method::GET, handler)
    }

    pub fn post<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on(Method::POST, handler)
    }

    fn on<F, Args>(mut self, method: Method, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.inner = self.inner.route(web::method(method.clone()).to(handler));
        self.methods.push(method);
        self
    }
}

/// Mounts resources and remembers what it mounted.
pub struct RouteTable<'a> {
    config: &'a mut ServiceConfig,
    operations: Vec<Operation>,
}

impl<'a> RouteTable<'a> {
    pub fn new(config: &'a mut ServiceConfig) -> Self {
        Self { config, operations: Vec::new() }
    }

    /// Registers `resource` behind the guard of its access class.
    pub fn add(&mut self, resource: Resource) -> &mut Self {
        let Resource { path, access, inner, methods } = resource;
        self.operations.extend(methods.into_iter().map(|method| Operation { method, path: openapi_path(path) }));
        match access {
            Access::Public => self.config.service(inner),
            Access::Readers => self.config.service(inner.wrap(from_fn(access::readers))),
            Access::Operators => self.config.service(inner.wrap(from_fn(access::operators))),
            Access::Admins => self.config.service(inner.wrap(from_fn(access::admins))),
            Access::MetricsReaders => self.config.service(inner.wrap(from_fn(access::metrics_readers))),
        };
        self
    }

    /// Shared settings of every route (extractor limits and error handlers).
    pub fn app_data<U: 'static>(&mut self, data: U) -> &mut Self {
        self.config.app_data(data);
        self
    }

    /// What was registered, in registration order.
    pub fn into_operations(self) -> Vec<Operation> {
        self.operations
    }
}

/// actix's `{name:regex}` segments become OpenAPI's `{name}`.
pub fn openapi_path(actix_path: &str) -> String {
    let mut out = String::with_capacity(actix_path.len());
    let mut in_regex = false;
    for c in actix_path.chars() {
        match c {
            ':' if !in_regex && out.rfind('{') > out.rfind('}') => in_regex = true,
            '}' if in_regex => {
                in_regex = false;
                out.push('}');
            }
            _ if in_regex => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::openapi_path;

    #[test]
    fn regex_segments_lose_their_pattern() {
        assert_eq!(openapi_path("/images/{key:.*}"), "/images/{key}");
        assert_eq!(openapi_path("/admin/jobs/{id}/retry"), "/admin/jobs/{id}/retry");
        assert_eq!(openapi_path("/a/{x:[0-9]+}/b/{y}"), "/a/{x}/b/{y}");
        assert_eq!(openapi_path("/healthz"), "/healthz");
    }
}

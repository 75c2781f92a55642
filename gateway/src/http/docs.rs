//! `GET /docs`: the API reference page (Swagger UI) over `/openapi.json`.
//! Its files are compiled into the binary (`utoipa-swagger-ui`'s vendored
//! copy, no CDN and no download at build time) and served from `/docs/…`.

use std::sync::{Arc, LazyLock};

use actix_web::{HttpResponse, http::header, web};
use utoipa_swagger_ui::Config;

use super::errors::ApiError;

static CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| Arc::new(Config::new(["/openapi.json"])));

/// Swagger UI's scripts set inline styles and its stylesheet embeds `data:` icons.
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

#[utoipa::path(
    get, path = "/docs", tag = "docs",
    summary = "The API reference page",
    responses((status = 200, description = "Swagger UI over /openapi.json", content_type = "text/html", body = String)),
)]
pub async fn index() -> Result<HttpResponse, ApiError> {
    file("")
}

#[utoipa::path(
    get, path = "/docs/{file}", tag = "docs",
    summary = "A file of the reference page",
    params(("file" = String, Path, description = "A file of the page, such as `swagger-ui.css`", example = "swagger-ui.css")),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/html"), (String = "text/css"), (String = "text/javascript"),
            (String = "application/javascript"), (Vec<u8> = "image/png"),
        )),
        (status = 404, description = "No such file", body = super::errors::ErrorBody),
    ),
)]
pub async fn asset(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    file(&path)
}

fn file(name: &str) -> Result<HttpResponse, ApiError> {
    let name = if name.is_empty() || name == "/" { "index.html" } else { name };
    let served = utoipa_swagger_ui::serve(name, CONFIG.clone())
        .map_err(|error| ApiError::Internal(anyhow::anyhow!("serving a docs file: {error}")))?
        .ok_or(ApiError::NotFound)?;
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, "public, max-age=3600"));
    if name == "index.html" {
        // Absolute asset paths, so the page works at `/docs` as well as `/docs/`.
        let page = String::from_utf8_lossy(&served.bytes)
            .replace("href=\"./", "href=\"/docs/")
            .replace("src=\"./", "src=\"/docs/")
            .replace("href=\"index.css\"", "href=\"/docs/index.css\"")
            .replace("<title>Swagger UI</title>", "<title>Soko Ingest API</title>");
        response.insert_header((header::CONTENT_SECURITY_POLICY, DOCS_CSP));
        return Ok(response.content_type("text/html; charset=utf-8").body(page));
    }
    if served.gzpipped {
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
    }
    Ok(response.content_type(served.content_type).body(served.bytes.into_owned()))
}

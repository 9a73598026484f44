//! The transform server: Maltego's TRX protocol over actix-web.
//!
//! Routes and status codes follow the checklist of `shared/design/maltego.md` (section 15):
//! `GET /` answers with a line of text; `/run/<name>` and `/run/<name>/` (any case) answer
//! GET and HEAD with a line of text and POST with a Maltego message, always 200 for a known
//! transform (an empty body is the TDS probe; malformed XML gets an exception naming the
//! problem), 404 for an unknown name, 405 with `Allow` for other methods. The body is read
//! whatever its Content-Type, up to [`ServerConfig::body_limit`]. `GET /captures/<dir>/<file>`
//! serves session pcaps packetpivot wrote, nothing else. Transforms run on actix's blocking
//! pool, never on the async workers. Binding and shutdown belong to the caller ([`run`]
//! takes a bound listener; actix stops gracefully on SIGINT and SIGTERM).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::maltego::request::TransformRequest;
use crate::maltego::response::{
    exception_to_string, response_document, response_to_string, Document, RenderedEntities,
    Response,
};
use crate::transforms::store::CaptureStore;
use crate::transforms::{self, Context};

/// The greeting of `GET /`.
pub const GREETING: &str = "You have reached a Maltego Transform Server (packetpivot).";
/// What `Allow` lists on the transform routes.
pub const ALLOW: &str = "GET, HEAD, POST, OPTIONS";
const XML: &str = "text/xml; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// What the server needs besides its listener.
pub struct ServerConfig {
    /// Captures and session files.
    pub store: CaptureStore,
    /// Largest request body accepted, in bytes (a Maltego request is a few kilobytes; the
    /// cap keeps a client from making the server buffer arbitrary amounts).
    pub body_limit: usize,
}

/// Shared state of every worker.
pub type State = web::Data<ServerConfig>;

/// Adds packetpivot's routes to an actix app (used by [`run`] and by tests).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/")
            .route(web::get().to(greet))
            .route(web::head().to(greet))
            .route(web::post().to(greet))
            .route(web::method(Method::OPTIONS).to(options))
            .default_service(web::to(not_allowed)),
    )
    .service(
        web::resource(["/run/{name}", "/run/{name}/"])
            .route(web::get().to(describe))
            .route(web::head().to(describe))
            .route(web::post().to(run_transform))
            .route(web::method(Method::OPTIONS).to(options))
            .default_service(web::to(not_allowed)),
    )
    .service(
        web::resource("/captures/{dir}/{file}")
            .route(web::get().to(download))
            .route(web::head().to(download)),
    )
    .default_service(web::to(not_found));
}

/// Serves until SIGINT or SIGTERM (graceful: requests in flight finish).
pub async fn run(listener: TcpListener, config: ServerConfig) -> std::io::Result<()> {
    let state = web::Data::new(config);
    tracing::info!(address = %listener.local_addr()?, "listening");
    actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(state.clone())
            .configure(configure)
    })
    .listen(listener)?
    .shutdown_timeout(30)
    .run()
    .await
}

fn text(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, TEXT))
        .body(body)
}

fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, XML))
        .body(body)
}

/// A response document sent as its pieces: entities kept for repeated requests go out as
/// they are, without being copied into a new buffer (for 10,000 sessions, 38 MB).
struct Pieces {
    pieces: std::collections::VecDeque<web::Bytes>,
    size: u64,
}

/// Size of the slices a large shared piece is sent in.
const BODY_SLICE: usize = 64 * 1024;

/// The kept entities, as the bytes of a body piece.
struct Shared(Arc<RenderedEntities>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        self.0.as_ref().as_ref()
    }
}

impl Pieces {
    fn of(d: Document) -> Pieces {
        let size = d.len() as u64;
        let mut pieces = std::collections::VecDeque::new();
        pieces.push_back(web::Bytes::from(d.head));
        if let Some(shared) = d.shared {
            // In slices (which share the bytes): actix copies each piece into its write
            // buffer before sending, so one 38 MB piece would be copied whole first.
            let all = web::Bytes::from_owner(Shared(shared));
            let mut at = 0;
            while at < all.len() {
                let end = (at + BODY_SLICE).min(all.len());
                pieces.push_back(all.slice(at..end));
                at = end;
            }
        }
        pieces.push_back(web::Bytes::from(d.tail));
        Pieces { pieces, size }
    }
}

impl actix_web::body::MessageBody for Pieces {
    type Error = std::convert::Infallible;

    fn size(&self) -> actix_web::body::BodySize {
        actix_web::body::BodySize::Sized(self.size)
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<web::Bytes, Self::Error>>> {
        std::task::Poll::Ready(self.get_mut().pieces.pop_front().map(Ok))
    }
}

async fn greet() -> HttpResponse {
    let names: Vec<&str> = transforms::TRANSFORMS.iter().map(|t| t.meta.name).collect();
    text(
        StatusCode::OK,
        format!(
            "{GREETING}\nTransforms (POST /run/<name>): {}\n",
            names.join(", ")
        ),
    )
}

async fn options() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ALLOW, HeaderValue::from_static(ALLOW)))
        .finish()
}

async fn not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, HeaderValue::from_static(ALLOW)))
        .insert_header((header::CONTENT_TYPE, TEXT))
        .body("Method not allowed: use GET, HEAD or POST.\n")
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    text(
        StatusCode::NOT_FOUND,
        format!(
            "Nothing here: {}. Transforms are at /run/<name>.\n",
            req.path()
        ),
    )
}

fn unknown_transform(name: &str) -> String {
    let hint = transforms::suggestions(name);
    let all: Vec<&str> = transforms::TRANSFORMS.iter().map(|t| t.meta.name).collect();
    if hint.is_empty() {
        format!(
            "No transform found with the name '{name}'. Available: {}.",
            all.join(", ")
        )
    } else {
        format!(
            "No transform found with the name '{name}'. Did you mean {}?",
            hint.join(" or ")
        )
    }
}

async fn describe(name: web::Path<String>) -> HttpResponse {
    match transforms::find(&name) {
        Some(t) => text(
            StatusCode::OK,
            format!(
                "Transform found with name '{}', you will need to send a POST request to run it.\n",
                t.meta.name
            ),
        ),
        None => text(
            StatusCode::NOT_FOUND,
            format!("{}\n", unknown_transform(&name)),
        ),
    }
}

async fn run_transform(
    state: State,
    name: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let started = Instant::now();
    let Some(transform) = transforms::find(&name) else {
        tracing::warn!(transform = %name, "unknown transform");
        return HttpResponse::NotFound()
            .insert_header((header::CONTENT_TYPE, XML))
            .body(exception_to_string(&unknown_transform(&name), None));
    };
    let limit = state.body_limit;
    let body = match payload.to_bytes_limited(limit).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            return xml(exception_to_string(
                &format!("cannot read the request body: {e}"),
                None,
            ))
        }
        Err(_) => {
            return xml(exception_to_string(
                &format!(
                "request body over the {limit} byte limit; a Maltego request is a few kilobytes"
            ),
                None,
            ))
        }
    };
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        // The TDS probes a transform URL with an empty POST.
        let mut r = Response::default();
        r.inform(format!(
            "packetpivot is reachable: '{}' received an empty request",
            transform.meta.name
        ));
        return xml(response_to_string(&r));
    }
    let request = match TransformRequest::parse(&body) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(transform = transform.meta.name, error = %e, "bad request");
            return xml(exception_to_string(
                &format!("the request is not a valid Maltego transform request: {e}"),
                None,
            ));
        }
    };
    let st = state.into_inner();
    let outcome = web::block(move || run_blocking(transform, &request, &st)).await;
    let body = match outcome {
        Ok((body, response)) => {
            // Freeing 10,000 entities' strings takes tens of milliseconds: do it after the
            // answer has gone, not before.
            if let Some(response) = response {
                drop(actix_web::rt::task::spawn_blocking(move || drop(response)));
            }
            body
        }
        Err(e) => Document {
            head: exception_to_string(&format!("{} could not run: {e}", transform.meta.name), None)
                .into_bytes(),
            ..Document::default()
        },
    };
    tracing::info!(
        transform = transform.meta.name,
        ms = started.elapsed().as_millis() as u64,
        bytes = body.len(),
        "answered"
    );
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, XML))
        .body(Pieces::of(body))
}

/// Runs the transform and renders its answer; also returns the response itself, for the
/// caller to free once the answer is sent.
fn run_blocking(
    transform: &'static transforms::Transform,
    request: &TransformRequest,
    state: &Arc<ServerConfig>,
) -> (Document, Option<Response>) {
    let ctx = Context {
        request,
        store: &state.store,
    };
    let started = std::time::Instant::now();
    match (transform.run)(&ctx) {
        Ok(response) => {
            let ran = started.elapsed();
            let body = response_document(&response);
            tracing::debug!(
                transform = transform.meta.name,
                run_ms = ran.as_secs_f64() * 1e3,
                render_ms = (started.elapsed() - ran).as_secs_f64() * 1e3,
                entities = response.entities.len(),
                "rendered"
            );
            (body, Some(response))
        }
        Err(e) => {
            tracing::warn!(transform = transform.meta.name, error = %e, "transform failed");
            let head = exception_to_string(&e.to_string(), None).into_bytes();
            (
                Document {
                    head,
                    ..Document::default()
                },
                None,
            )
        }
    }
}

async fn download(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (dir, file) = path.into_inner();
    let st = state.into_inner();
    let found = web::block(move || st.store.session_file(&dir, &file)).await;
    match found {
        Ok(Some(p)) => match actix_files::NamedFile::open(&p) {
            Ok(f) => f
                .set_content_type(
                    "application/vnd.tcpdump.pcap"
                        .parse()
                        .unwrap_or(actix_web::mime::APPLICATION_OCTET_STREAM),
                )
                .into_response(&req),
            Err(_) => text(StatusCode::NOT_FOUND, "No such session file.\n".into()),
        },
        _ => text(StatusCode::NOT_FOUND, "No such session file.\n".into()),
    }
}

//! Who the view answers: the page it served, in its owner's browser, and nobody else — the
//! control port's rules ([`p2plab_runtime::control`]) for a web page.
//!
//! Every request passes three checks, in this order, before any handler sees it:
//!
//! 1. **Host.** The `Host` header (and the authority of an absolute request line) must be
//!    `127.0.0.1:<port>` or `localhost:<port>`. A web page that points a name of its own at
//!    127.0.0.1 (DNS rebinding) reaches the socket, but its requests carry its own name and
//!    are refused.
//! 2. **Origin.** A request that says where it comes from must come from the view's own
//!    origin. The view sends no CORS header at all, so a script on another site can neither
//!    read an answer nor be let in by a preflight.
//! 3. **Token.** The request must carry the server's token, drawn afresh from the operating
//!    system's random source at each start: in `?token=` (the URL the command prints, and the
//!    page's own event stream) or as `Authorization: Bearer <token>`. Without it: 401 and
//!    no data. It is compared in constant time.
//!
//! Every answer, refusals included, also tells the browser to keep nothing (`no-store`),
//! send no referrer (the token is in the URL), run only the page's own inline code and
//! connect only back here (a content security policy), and never show the page in a frame.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use p2plab_peer_protocol::control::ControlToken;

/// The names the view answers to, with its port.
const HOST_NAMES: [&str; 2] = ["127.0.0.1", "localhost"];

/// The query parameter that carries the token.
pub const TOKEN_PARAM: &str = "token";

/// What the page may do: its own inline script and style, images from `data:` URLs (the
/// favicon it declares so the browser asks for none), connections back to this server only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
    style-src 'unsafe-inline'; img-src data:; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'none'";

/// What a request must show to be answered.
#[derive(Debug)]
pub struct Guard {
    /// `127.0.0.1:<port>` and `localhost:<port>`.
    hosts: Vec<String>,
    /// `http://` and each of [`Guard::hosts`].
    origins: Vec<String>,
    token: ControlToken,
}

/// Why a request was refused: its status and a sentence that gives nothing away.
type Refusal = (StatusCode, &'static str);

impl Guard {
    /// The guard of a view listening at `addr` with `token`.
    pub fn new(addr: SocketAddr, token: ControlToken) -> Self {
        let hosts: Vec<String> = HOST_NAMES
            .iter()
            .map(|name| format!("{name}:{}", addr.port()))
            .collect();
        let origins = hosts.iter().map(|h| format!("http://{h}")).collect();
        Guard {
            hosts,
            origins,
            token,
        }
    }

    /// Whether a request with these headers, for this URI, is answered.
    fn admits(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), Refusal> {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let authority = uri.authority().map(|a| a.as_str());
        let known = |name: Option<&str>| name.is_some_and(|n| self.hosts.iter().any(|h| h == n));
        if !known(host) || (authority.is_some() && !known(authority)) {
            return Err((
                StatusCode::FORBIDDEN,
                "this server answers only to 127.0.0.1 and localhost, at its own port",
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            if !self
                .origins
                .iter()
                .any(|o| o.as_bytes() == origin.as_bytes())
            {
                return Err((
                    StatusCode::FORBIDDEN,
                    "requests from other origins are refused",
                ));
            }
        }
        match given_token(headers, uri) {
            Some(token) if self.token.matches(token) => Ok(()),
            _ => Err((
                StatusCode::UNAUTHORIZED,
                "open the URL that `p2plab view` printed: it carries the token",
            )),
        }
    }
}

/// The token a request carries: its `Authorization: Bearer`, else its `?token=`.
fn given_token<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> Option<&'a str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    bearer.or_else(|| query_param(uri, TOKEN_PARAM))
}

/// The value of the query parameter `name` in `uri`, as it is written (the view's own
/// parameters are digits, names and hex, which need no decoding).
pub fn query_param<'a>(uri: &'a Uri, name: &str) -> Option<&'a str> {
    uri.query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then_some(value)
    })
}

/// The middleware: refuses what [`Guard::admits`] does not, and hardens every answer.
pub async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let mut response = match guard.admits(request.headers(), request.uri()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails by panicking

    use super::*;

    const TOKEN: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn guard() -> Guard {
        let token = ControlToken::parse(TOKEN).unwrap();
        Guard::new("127.0.0.1:8123".parse().unwrap(), token)
    }

    fn ask(headers: &[(header::HeaderName, &str)], uri: &str) -> Result<(), StatusCode> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        guard()
            .admits(&map, &uri.parse().unwrap())
            .map_err(|(status, _)| status)
    }

    #[test]
    fn only_the_token_opens_the_door() {
        let host = [(header::HOST, "127.0.0.1:8123")];
        let with = format!("/?token={TOKEN}");
        assert_eq!(ask(&host, &with), Ok(()));
        assert_eq!(ask(&host, "/"), Err(StatusCode::UNAUTHORIZED));
        let wrong = format!("/?token={}", TOKEN.replace('0', "1"));
        assert_eq!(ask(&host, &wrong), Err(StatusCode::UNAUTHORIZED));
        let bearer = format!("Bearer {TOKEN}");
        let both = [host[0].clone(), (header::AUTHORIZATION, bearer.as_str())];
        assert_eq!(ask(&both, "/events"), Ok(()));
    }

    #[test]
    fn a_foreign_name_or_origin_is_refused_even_with_the_token() {
        let with = format!("/?token={TOKEN}");
        for host in [
            "evil.example:8123",
            "127.0.0.1:8124",
            "localhost",
            "127.0.0.1",
        ] {
            let refused = ask(&[(header::HOST, host)], &with);
            assert_eq!(refused, Err(StatusCode::FORBIDDEN), "{host}");
        }
        assert_eq!(ask(&[(header::HOST, "localhost:8123")], &with), Ok(()));
        let absolute = format!("http://evil.example:8123/?token={TOKEN}");
        let refused = ask(&[(header::HOST, "127.0.0.1:8123")], &absolute);
        assert_eq!(
            refused,
            Err(StatusCode::FORBIDDEN),
            "an absolute request line"
        );
        for origin in ["http://evil.example", "http://127.0.0.1:8124", "null"] {
            let refused = ask(
                &[(header::HOST, "127.0.0.1:8123"), (header::ORIGIN, origin)],
                &with,
            );
            assert_eq!(refused, Err(StatusCode::FORBIDDEN), "{origin}");
        }
        let own = [
            (header::HOST, "127.0.0.1:8123"),
            (header::ORIGIN, "http://127.0.0.1:8123"),
        ];
        assert_eq!(ask(&own, &with), Ok(()));
    }
}

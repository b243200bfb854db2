//! Outgoing HTTP requests (`wasi:http` from WASIp2 and WASIp3 components,
//! spin-sdk's `http::send`), allowed only to the component's
//! `allowed_outbound_hosts`; any other is refused with
//! `ErrorCode::HttpRequestDenied` before a connection is made, and the host
//! says on stderr which entry would allow it.
//!
//! A request to `http://self.alt/...` (Spin's name for the application
//! itself) goes to the address this host listens on, when `http://self` is
//! allowed.
//!
//! Timeouts a request sets in its `request-options` are kept; one it leaves
//! unset is [`CONNECT_TIMEOUT`], [`FIRST_BYTE_TIMEOUT`] or
//! [`BETWEEN_BYTES_TIMEOUT`] (Spin waits ten minutes for each, which holds a
//! request to a dead endpoint open for as long).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::uri::{Authority, Scheme, Uri};
use http::{HeaderValue, Request};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::{AllowedHosts, AppAddress, Target};

/// How long to wait for a connection (and the TLS handshake).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the response's status and headers.
pub const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the response body may stall between two chunks.
pub const BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_secs(60);

/// The host name Spin gives the application itself in outgoing requests.
const SELF_HOST: &str = "self.alt";

/// One instance's outgoing HTTP: the `wasi:http` hooks that check and send.
pub struct OutboundHttp {
    component_id: Arc<str>,
    allowed: Arc<AllowedHosts>,
    app_address: Arc<AppAddress>,
}

type ResponseFuture = Box<
    dyn Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

impl OutboundHttp {
    pub fn new(
        component_id: Arc<str>,
        allowed: Arc<AllowedHosts>,
        app_address: Arc<AppAddress>,
    ) -> Self {
        OutboundHttp {
            component_id,
            allowed,
            app_address,
        }
    }

    /// The request as it will be sent, or why it may not be.
    fn admit(&self, mut request: Request<WasiBody>) -> Result<Request<WasiBody>, Error> {
        let uri = request.uri().clone();
        let authority = uri.authority().ok_or(Error::HttpRequestUriInvalid)?;
        if authority.host().eq_ignore_ascii_case(SELF_HOST) {
            if !self.allowed.allows_self() {
                self.report_denied("http://self");
                return Err(Error::HttpRequestDenied);
            }
            let address = self
                .app_address
                .get()
                .ok_or(Error::DestinationUnavailable)?;
            let authority = Authority::try_from(address.to_string())
                .map_err(|_| Error::HttpRequestUriInvalid)?;
            *request.uri_mut() = to_authority(&uri, Scheme::HTTP, &authority)?;
            let host = HeaderValue::try_from(authority.as_str())
                .map_err(|_| Error::HttpRequestUriInvalid)?;
            request.headers_mut().insert(http::header::HOST, host);
            return Ok(request);
        }
        let target = Target::from_uri(&uri).ok_or(Error::HttpRequestUriInvalid)?;
        if !self.allowed.allows(&target) {
            self.report_denied(&target.to_string());
            return Err(Error::HttpRequestDenied);
        }
        Ok(request)
    }

    fn report_denied(&self, destination: &str) {
        super::warn_denied(&self.component_id, "send HTTP requests to", destination);
    }
}

fn to_authority(uri: &Uri, scheme: Scheme, authority: &Authority) -> Result<Uri, Error> {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Uri::builder()
        .scheme(scheme)
        .authority(authority.clone())
        .path_and_query(path)
        .build()
        .map_err(|_| Error::HttpRequestUriInvalid)
}

/// The request's own timeouts, and ours where it sets none.
fn with_default_timeouts(options: Option<RequestOptions>) -> RequestOptions {
    let options = options.unwrap_or_default();
    RequestOptions {
        connect_timeout: options.connect_timeout.or(Some(CONNECT_TIMEOUT)),
        first_byte_timeout: options.first_byte_timeout.or(Some(FIRST_BYTE_TIMEOUT)),
        between_bytes_timeout: options
            .between_bytes_timeout
            .or(Some(BETWEEN_BYTES_TIMEOUT)),
    }
}

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_outcome: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> ResponseFuture {
        let admitted = self.admit(request);
        Box::new(async move {
            let request = admitted?;
            let options = with_default_timeouts(options);
            let (response, connection) =
                wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            let connection: Box<dyn Future<Output = _> + Send> = Box::new(connection);
            Ok((response.map(BodyExt::boxed_unsync), connection))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Empty;

    fn hooks(allowed: &[&str]) -> OutboundHttp {
        let entries: Vec<String> = allowed.iter().map(|e| e.to_string()).collect();
        let allowed = AllowedHosts::resolve(&entries, &[], |_| None).unwrap();
        let app_address = AppAddress::default();
        app_address.set("0.0.0.0:3000".parse().unwrap());
        OutboundHttp::new("probe".into(), Arc::new(allowed), Arc::new(app_address))
    }

    fn request(uri: &str) -> Request<WasiBody> {
        Request::get(uri)
            .header(http::header::HOST, "self.alt")
            .body(Empty::new().map_err(|never| match never {}).boxed_unsync())
            .unwrap()
    }

    #[test]
    fn only_allowed_hosts_are_admitted() {
        let granted = hooks(&["https://api.example.com", "http://127.0.0.1:*"]);
        assert!(granted.admit(request("https://api.example.com/v1")).is_ok());
        assert!(granted.admit(request("http://127.0.0.1:9999/")).is_ok());
        for denied in [
            "http://api.example.com/v1",
            "https://api.example.com:8443/",
            "https://example.com/",
            "http://localhost:9999/",
        ] {
            assert!(
                matches!(
                    granted.admit(request(denied)),
                    Err(Error::HttpRequestDenied)
                ),
                "{denied}"
            );
        }
        let without_grants = hooks(&[]);
        for denied in ["https://api.example.com/v1", "http://self.alt/"] {
            assert!(
                matches!(
                    without_grants.admit(request(denied)),
                    Err(Error::HttpRequestDenied)
                ),
                "{denied}"
            );
        }
    }

    #[test]
    fn self_requests_go_to_the_listening_address() {
        let admitted = hooks(&["http://self"])
            .admit(request("https://self.alt/probe/echo?x=1"))
            .unwrap();
        assert_eq!(admitted.uri(), "http://127.0.0.1:3000/probe/echo?x=1");
        assert_eq!(admitted.headers()[http::header::HOST], "127.0.0.1:3000");

        let refused = hooks(&["http://127.0.0.1:3000"]).admit(request("http://self.alt/"));
        assert!(matches!(refused, Err(Error::HttpRequestDenied)));
    }

    #[test]
    fn request_timeouts_win_over_the_defaults() {
        let set = RequestOptions {
            connect_timeout: Some(Duration::from_millis(5)),
            ..RequestOptions::default()
        };
        let options = with_default_timeouts(Some(set));
        assert_eq!(options.connect_timeout, Some(Duration::from_millis(5)));
        assert_eq!(options.first_byte_timeout, Some(FIRST_BYTE_TIMEOUT));
        assert_eq!(options.between_bytes_timeout, Some(BETWEEN_BYTES_TIMEOUT));
    }
}

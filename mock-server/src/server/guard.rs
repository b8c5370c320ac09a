//! Who may use the control API (`/_mock/`), checked before any control
//! request is read. Without it, any web page open in the user's browser
//! could reconfigure a running fake: a cross-origin `text/plain` POST needs
//! no preflight (CSRF), and a DNS-rebound name reaches 127.0.0.1 with a
//! foreign `Host` (rebinding). So by default a control request must name
//! this server by a loopback name or the address it was reached on, and a
//! browser's `Origin`, when sent, must be such a name too. A token
//! (`Authorization: Bearer`) or `--no-control` close it further.

use super::body::{full, Body};
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use std::net::IpAddr;

/// What every connection of one server is held to beyond the scenario.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Who may use the control API.
    pub control: ControlAccess,
    /// Most open connections per node; one more is answered 503 and
    /// closed.
    pub max_connections: usize,
}

/// File descriptors kept for listeners, logs and the journal when the
/// connection cap is derived from the open-file limit.
const FD_RESERVE: u64 = 64;

/// The default per-node connection cap: the process's soft open-file limit
/// (`ulimit -n`), less a reserve, shared among `nodes`, so the server
/// answers 503 before `accept` starts failing; unbounded when the limit
/// cannot be read (not Linux) or is unlimited.
pub fn default_max_connections(nodes: usize) -> usize {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| soft_open_files(&t));
    match limit {
        Some(n) => (n.saturating_sub(FD_RESERVE) / nodes.max(1) as u64).max(16) as usize,
        None => usize::MAX,
    }
}

/// The soft "Max open files" of a `/proc/self/limits` text.
fn soft_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Environment variable read for the control token when no
/// `--control-token` is given.
pub const TOKEN_ENV: &str = "MOCK_CONTROL_TOKEN";

/// Who may use the control API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControlAccess {
    /// No control API at all: `/_mock/` answers 404 like any unknown path.
    pub disabled: bool,
    /// When set, every control request must carry `Authorization: Bearer
    /// <token>`.
    pub token: Option<String>,
    /// Accept any `Host` and `Origin` (a server behind a proxy or reached
    /// by a DNS name); off by default.
    pub allow_foreign: bool,
}

impl ControlAccess {
    /// Refuses a control request that this access does not allow, with the
    /// reason and the flag that would allow it. `local` is the address the
    /// connection was accepted on.
    #[allow(clippy::result_large_err)]
    pub fn check(&self, headers: &HeaderMap, local: Option<IpAddr>) -> Result<(), Response<Body>> {
        if self.disabled {
            return Err(refuse(
                StatusCode::NOT_FOUND,
                "the control API is disabled (--no-control)",
            ));
        }
        if !self.allow_foreign {
            if let Some(host) = headers.get(header::HOST) {
                let host = host.to_str().unwrap_or("");
                if !is_own_host(host_name(host), local) {
                    return Err(refuse(
                        StatusCode::FORBIDDEN,
                        &format!("control API: Host `{host}` is not a loopback name or address of this server (guard against DNS rebinding); use http://127.0.0.1:PORT, or start the server with --control-allow-foreign"),
                    ));
                }
            }
            if let Some(origin) = headers.get(header::ORIGIN) {
                let origin = origin.to_str().unwrap_or("");
                let host = origin
                    .strip_prefix("http://")
                    .or_else(|| origin.strip_prefix("https://"));
                if !host.is_some_and(|h| is_own_host(host_name(h), local)) {
                    return Err(refuse(
                        StatusCode::FORBIDDEN,
                        &format!("control API: requests from web pages of another origin (`{origin}`) are refused (guard against CSRF); start the server with --control-allow-foreign to allow them"),
                    ));
                }
            }
        }
        if let Some(token) = &self.token {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            if !same(given.trim().as_bytes(), token.as_bytes()) {
                return Err(refuse(
                    StatusCode::UNAUTHORIZED,
                    "control API: send `Authorization: Bearer <token>` with the server's --control-token",
                ));
            }
        }
        Ok(())
    }
}

/// `host` of `host:port`, `[v6]:port`, `[v6]` or `host`.
fn host_name(authority: &str) -> &str {
    let a = authority.trim();
    if let Some(rest) = a.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match a.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => a,
    }
}

/// A loopback name or address, or the address the connection came in on.
fn is_own_host(host: &str, local: Option<IpAddr>) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if h == "localhost" || h.ends_with(".localhost") {
        return true;
    }
    match h.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() || Some(ip) == local,
        Err(_) => false,
    }
}

/// Compares without stopping at the first difference, so the time taken
/// does not tell how much of a guessed token was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refuse(status: StatusCode, msg: &str) -> Response<Body> {
    let body = serde_json::json!({ "ok": false, "error": msg });
    let mut resp = Response::new(full(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn status(a: &ControlAccess, pairs: &[(&'static str, &str)], local: Option<IpAddr>) -> u16 {
        match a.check(&headers(pairs), local) {
            Ok(()) => 200,
            Err(r) => r.status().as_u16(),
        }
    }

    #[test]
    fn loopback_hosts_pass_and_foreign_hosts_and_origins_are_refused() {
        let a = ControlAccess::default();
        for host in [
            "127.0.0.1:8080",
            "localhost:1",
            "[::1]:9",
            "127.0.0.2",
            "LOCALHOST.",
        ] {
            assert_eq!(status(&a, &[("host", host)], None), 200, "{host}");
        }
        assert_eq!(status(&a, &[], None), 200, "no Host (HTTP/1.0)");
        assert_eq!(status(&a, &[("host", "attacker.example")], None), 403);
        assert_eq!(status(&a, &[("host", "attacker.example:8080")], None), 403);
        assert_eq!(
            status(
                &a,
                &[("host", "127.0.0.1:1"), ("origin", "http://evil.example")],
                None
            ),
            403
        );
        assert_eq!(
            status(&a, &[("host", "127.0.0.1:1"), ("origin", "null")], None),
            403
        );
        assert_eq!(
            status(
                &a,
                &[("host", "127.0.0.1:1"), ("origin", "http://localhost:3000")],
                None
            ),
            200
        );
        // Reached on a LAN address (--allow-non-loopback): that address is its own.
        let lan: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(status(&a, &[("host", "10.1.2.3:8080")], Some(lan)), 200);
        assert_eq!(status(&a, &[("host", "10.9.9.9:8080")], Some(lan)), 403);
    }

    #[test]
    fn the_soft_open_file_limit_is_read_from_proc_limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \nMax cpu time              unlimited            unlimited            seconds   \nMax open files            1024                 524288               files     \n";
        assert_eq!(soft_open_files(text), Some(1024));
        assert_eq!(
            soft_open_files("Max open files  unlimited unlimited files"),
            None
        );
        assert!(default_max_connections(4) >= 16);
    }

    #[test]
    fn allow_foreign_token_and_disabled() {
        let open = ControlAccess {
            allow_foreign: true,
            ..Default::default()
        };
        assert_eq!(status(&open, &[("host", "attacker.example")], None), 200);
        let token = ControlAccess {
            token: Some("s3cret".into()),
            ..Default::default()
        };
        assert_eq!(status(&token, &[("host", "127.0.0.1")], None), 401);
        assert_eq!(
            status(
                &token,
                &[("host", "127.0.0.1"), ("authorization", "Bearer wrong!")],
                None
            ),
            401
        );
        assert_eq!(
            status(
                &token,
                &[("host", "127.0.0.1"), ("authorization", "Bearer s3cret")],
                None
            ),
            200
        );
        let off = ControlAccess {
            disabled: true,
            ..Default::default()
        };
        assert_eq!(status(&off, &[("host", "127.0.0.1")], None), 404);
    }
}

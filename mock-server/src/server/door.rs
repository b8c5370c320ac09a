//! A node's door: its listening socket, opened, closed or black-holed as
//! the `node_down` fault says (`FaultSet::node_down`, checked every
//! [`TICK`] by the accept loop).
//!
//! - **up**: a normal listener.
//! - **refuse** (a crashed process): no socket at all, so the kernel answers
//!   a connect with RST (ECONNREFUSED at once); the accept loop resets the
//!   node's open connections as the door closes.
//! - **blackhole** (a network partition): a socket listening with a
//!   backlog of 0 whose accept queue the door fills itself with one
//!   connection it never accepts. Linux drops a SYN that arrives while the
//!   accept queue is full (whatever `tcp_syncookies` says), so a client's
//!   connect gets no answer at all and its connect timeout fires; the SYN
//!   retries (1 s, 3 s, ...) meet the same full queue until the node comes
//!   back. Limits: this is Linux behaviour (other systems may refuse or
//!   accept instead, which the door's tests would show); connections opened
//!   before the partition are not cut, but every request on them is left
//!   unanswered (the plan turns `node_down` into a stall), and a response
//!   already being sent finishes.
//!
//! When the phase ends the door rebinds the same address (SO_REUSEADDR, as
//! tokio sets it on Unix), so the node comes back on the port clients know.

use crate::config::fault::NodeDownMode;
use socket2::{Domain, Socket, Type};
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use tokio::net::TcpListener;

/// How often the accept loop looks at the fault set: the latest a node goes
/// down or comes back after its phase edge.
pub const TICK: Duration = Duration::from_millis(20);

/// The socket state of one node.
#[derive(Debug)]
pub enum Door {
    /// Accepting.
    Up(TcpListener),
    /// No socket: connects are refused.
    Refusing,
    /// A full accept queue: SYNs are dropped. Both sockets live as long as
    /// the partition.
    Blackhole {
        /// The listening socket, never accepted from.
        _listener: Socket,
        /// The one connection that fills its accept queue.
        _filler: TcpStream,
    },
}

impl Door {
    /// The mode this door is in (`None` when up).
    pub fn mode(&self) -> Option<NodeDownMode> {
        match self {
            Door::Up(_) => None,
            Door::Refusing => Some(NodeDownMode::Refuse),
            Door::Blackhole { .. } => Some(NodeDownMode::Blackhole),
        }
    }

    /// The listener, when up.
    pub fn listener(&self) -> Option<&TcpListener> {
        match self {
            Door::Up(l) => Some(l),
            _ => None,
        }
    }

    /// Moves to `want` on `addr`. Any old socket is closed first, so the
    /// new one can take the port.
    pub fn switch(self, want: Option<NodeDownMode>, addr: SocketAddr) -> io::Result<Door> {
        drop(self);
        match want {
            None => {
                let std = std_listener(addr, 1024)?;
                TcpListener::from_std(std.into()).map(Door::Up)
            }
            Some(NodeDownMode::Refuse) => Ok(Door::Refusing),
            Some(NodeDownMode::Blackhole) => {
                let listener = std_listener(addr, 0)?;
                // Backlog 0 holds one connection; this one fills it.
                let filler = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
                Ok(Door::Blackhole {
                    _listener: listener,
                    _filler: filler,
                })
            }
        }
    }
}

fn std_listener(addr: SocketAddr, backlog: i32) -> io::Result<Socket> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(backlog)?;
    Ok(s)
}

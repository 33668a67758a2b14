//! Which data path a run's bytes take, chosen once at start-up: the driver's own ring (TCP), or
//! glommio's sockets — for UDP and facebook mode (datagrams gain nothing from the ring), when
//! `SHARDSLAP_DATA_PATH=glommio` asks for it, or when this kernel cannot set up the ring. On
//! the ring, how connections receive: multishot into buffers the ring provides when each
//! connection has one request in flight, one-shot otherwise.

use shardslap_config::RunConfig;

/// The environment variable that forces a data path: `ring`, `ring-oneshot` (the ring with
/// one-shot receives only) or `glommio`.
pub const DATA_PATH_ENV: &str = "SHARDSLAP_DATA_PATH";

/// How a run moves its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataPath {
    /// One driver per executor on an io_uring of its own (`SINGLE_ISSUER | DEFER_TASKRUN`).
    Ring(Receives),
    /// glommio's `TcpStream`/`UdpSocket`, one task per concurrency.
    Glommio(GlommioReason),
}

/// How the ring's connections receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receives {
    /// One request in flight per connection (memaslap's closed loop): a multishot receive
    /// stays armed on each connection and every reply lands in a buffer the ring provides,
    /// so no receive is submitted or armed per request. (`--tls` connections still receive
    /// one-shot: their ciphertext goes through the session's own buffer.)
    Multishot,
    /// A one-shot receive into the connection's own buffer, armed again after each arrival.
    OneShot(OneShotReason),
}

/// Why the ring's connections receive one-shot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneShotReason {
    /// `--pipeline` above 1: a one-shot receive takes a connection's whole batch of replies
    /// in one completion and leaves the socket unwatched while the driver handles it; a
    /// multishot receive wakes on every segment the server writes, which cost memcached 8%
    /// more per request at `--pipeline 16` (docs/performance.md).
    Pipelined,
    /// `SHARDSLAP_DATA_PATH=ring-oneshot`.
    Forced,
    /// The kernel refused provided buffers; its words.
    Unavailable(String),
}

/// Why a run is on glommio's sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlommioReason {
    /// `-U` or `-a`: datagrams stay on glommio's sockets.
    Datagrams,
    /// `SHARDSLAP_DATA_PATH=glommio`.
    Forced,
    /// The ring could not be set up here; the kernel's words.
    RingUnavailable(String),
}

impl DataPath {
    /// The data path for `cfg` in this process, probing the kernel once.
    pub fn choose(cfg: &RunConfig) -> DataPath {
        let forced = std::env::var(DATA_PATH_ENV).ok();
        Self::decide(
            cfg.transport.uses_datagrams(),
            cfg.pipeline > 1,
            forced.as_deref(),
            Probes {
                ring: crate::uring::probe,
                provided_buffers: crate::uring::probe_provided_buffers,
            },
        )
    }

    fn decide<R, B>(
        datagrams: bool,
        pipelined: bool,
        forced: Option<&str>,
        probes: Probes<R, B>,
    ) -> DataPath
    where
        R: FnOnce() -> std::io::Result<()>,
        B: FnOnce() -> std::io::Result<()>,
    {
        if datagrams {
            return DataPath::Glommio(GlommioReason::Datagrams);
        }
        let forced = forced.map(str::to_ascii_lowercase);
        if forced.as_deref() == Some("glommio") {
            return DataPath::Glommio(GlommioReason::Forced);
        }
        if let Err(err) = (probes.ring)() {
            return DataPath::Glommio(GlommioReason::RingUnavailable(err.to_string()));
        }
        let receives = if forced.as_deref() == Some("ring-oneshot") {
            Receives::OneShot(OneShotReason::Forced)
        } else if pipelined {
            Receives::OneShot(OneShotReason::Pipelined)
        } else {
            match (probes.provided_buffers)() {
                Ok(()) => Receives::Multishot,
                Err(err) => Receives::OneShot(OneShotReason::Unavailable(err.to_string())),
            }
        };
        DataPath::Ring(receives)
    }

    /// Its name in the results: `ring` or `glommio`.
    pub fn name(&self) -> &'static str {
        match self {
            DataPath::Ring(_) => "ring",
            DataPath::Glommio(_) => "glommio",
        }
    }

    /// What to say once on stderr about this choice, if anything: only a fallback the user
    /// did not ask for is news.
    pub fn notice(&self) -> Option<String> {
        match self {
            DataPath::Glommio(GlommioReason::RingUnavailable(why)) => Some(format!(
                "shardslap: the io_uring data path is unavailable ({why}); using glommio's \
                 sockets, which cost more CPU per request"
            )),
            DataPath::Ring(Receives::OneShot(OneShotReason::Unavailable(why))) => {
                Some(format!("shardslap: {}", provided_buffers_refused(why)))
            }
            _ => None,
        }
    }
}

/// What a run does when the kernel refuses provided buffers (`why`, in its words): said
/// once, by the start-up probe or by an executor whose ring refused them after it.
pub(crate) fn provided_buffers_refused(why: &dyn std::fmt::Display) -> String {
    format!(
        "the kernel refused io_uring's provided receive buffers ({why}); arming a receive per \
         reply instead, which costs more CPU per request"
    )
}

/// The kernel checks [`DataPath::decide`] makes: the ring at all, then provided buffers.
struct Probes<R, B> {
    ring: R,
    provided_buffers: B,
}

impl GlommioReason {
    /// Why, in a few words.
    pub fn describe(&self) -> String {
        match self {
            GlommioReason::Datagrams => "UDP moves through glommio's sockets".to_owned(),
            GlommioReason::Forced => format!("{DATA_PATH_ENV}=glommio"),
            GlommioReason::RingUnavailable(why) => format!("io_uring is unavailable: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn works() -> io::Result<()> {
        Ok(())
    }

    fn refuses() -> io::Result<()> {
        Err(io::Error::from_raw_os_error(libc::EINVAL))
    }

    type Probe = fn() -> io::Result<()>;

    /// Both probes answer as given.
    fn probes(ring: Probe, buffers: Probe) -> Probes<Probe, Probe> {
        Probes {
            ring,
            provided_buffers: buffers,
        }
    }

    const MULTISHOT: DataPath = DataPath::Ring(Receives::Multishot);

    #[test]
    fn tcp_takes_the_ring_with_multishot_receives_when_the_kernel_has_them() {
        let all = || probes(works, works);
        assert_eq!(DataPath::decide(false, false, None, all()), MULTISHOT);
        assert_eq!(
            DataPath::decide(false, false, Some("ring"), all()),
            MULTISHOT
        );
        assert_eq!(MULTISHOT.notice(), None);
        assert_eq!(MULTISHOT.name(), "ring");
    }

    #[test]
    fn pipelined_and_forced_runs_receive_one_shot_silently() {
        let all = || probes(works, works);
        let pipelined = DataPath::decide(false, true, None, all());
        assert_eq!(
            pipelined,
            DataPath::Ring(Receives::OneShot(OneShotReason::Pipelined))
        );
        let forced = DataPath::decide(false, false, Some("Ring-OneShot"), all());
        assert_eq!(
            forced,
            DataPath::Ring(Receives::OneShot(OneShotReason::Forced))
        );
        for path in [pipelined, forced] {
            assert_eq!(path.notice(), None);
            assert_eq!(path.name(), "ring");
        }
    }

    #[test]
    fn a_kernel_without_provided_buffers_receives_one_shot_and_says_so_once() {
        let path = DataPath::decide(false, false, None, probes(works, refuses));
        assert!(matches!(
            path,
            DataPath::Ring(Receives::OneShot(OneShotReason::Unavailable(_)))
        ));
        let notice = path.notice().expect("a notice");
        assert!(notice.contains("provided receive buffers"), "{notice}");
        assert!(!notice.contains('\n'));
        // A pipelined run would not use them: nothing is asked, nothing said.
        let pipelined = DataPath::decide(false, true, None, probes(works, refuses));
        assert_eq!(pipelined.notice(), None);
    }

    #[test]
    fn datagrams_and_a_forced_choice_stay_on_glommio_silently() {
        let udp = DataPath::decide(true, false, None, probes(works, works));
        assert_eq!(udp, DataPath::Glommio(GlommioReason::Datagrams));
        assert_eq!(udp.notice(), None);
        let forced = DataPath::decide(false, false, Some("GLOMMIO"), probes(works, works));
        assert_eq!(forced, DataPath::Glommio(GlommioReason::Forced));
        assert_eq!(forced.notice(), None);
    }

    #[test]
    fn a_kernel_without_the_ring_falls_back_and_says_so_once() {
        let path = DataPath::decide(false, false, None, probes(refuses, refuses));
        let notice = path.notice().expect("a notice");
        assert!(
            notice.contains("io_uring data path is unavailable"),
            "{notice}"
        );
        assert!(notice.contains("glommio"), "{notice}");
        assert!(!notice.contains('\n'));
    }
}

//! Cancelling a running job: a [`CancelToken`] shared by the caller (a Cancel button, Ctrl-C)
//! and every step of the job (counts, page fetches, writes) that should stop with it.

use crate::error::{Error, Result};

/// Cancels a running job. Clone it freely; cancelling one clone cancels all.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(tokio_util::sync::CancellationToken);

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }
    pub fn cancel(&self) {
        self.0.cancel();
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
    /// Resolves once cancelled.
    pub async fn cancelled(&self) {
        self.0.cancelled().await;
    }
    /// A token cancelled with this one, that can also be cancelled on its own.
    pub fn child(&self) -> CancelToken {
        CancelToken(self.0.child_token())
    }
    /// `Err(Cancelled)` once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
    /// Runs `fut`, or stops with `Err(Cancelled)` as soon as this token is cancelled.
    pub async fn run<T>(&self, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        self.check()?;
        tokio::select! {
            biased;
            _ = self.0.cancelled() => Err(Error::Cancelled),
            r = fut => r,
        }
    }
}

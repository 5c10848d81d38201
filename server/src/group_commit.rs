//! Group commit: writes that arrive while one is in progress are committed together.
//!
//! A write is owned input and a function that applies it to a transaction. [`Commits::run`]
//! queues it and answers what it produced once its transaction has committed. A committer takes the
//! write at the head of its queue and every write queued behind it (up to [`MAX_BATCH`]),
//! applies them in arrival order in one transaction and commits once: one `BEGIN`/`COMMIT`
//! and one WAL write for the lot, each audit chain's head read once and extended by every
//! write of the batch, and the batch's audit entries and events inserted together (see
//! [`changes::record`](crate::changes::record)). Each write still gets its own result and its
//! own audit entry, in order.
//!
//! When one write of a batch fails, the batch rolls back and each of its writes runs again
//! alone, in its own transaction: a failing write never costs another its change, and every
//! answer is what that write's own transaction did. Writes are therefore applied more than
//! once in that case and must not act outside the transaction (no mail, no HTTP).
//!
//! SQLite has one committer (it has one writer anyway). PostgreSQL has several, taking batches
//! from the one queue side by side: a batch reads and locks the audit chains it extends only
//! when it is done (see [`changes::flush`](crate::changes::flush)), so batches of one org
//! overlap everywhere but in their last statements and their commit.

use std::{future::Future, panic::AssertUnwindSafe, pin::Pin, sync::Arc};

use futures_util::FutureExt;
use sea_orm::{DatabaseTransaction, DbBackend};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::{changes, db, error::ApiError};

/// The most writes one transaction takes.
pub const MAX_BATCH: usize = 128;
/// Committers on PostgreSQL.
const POSTGRES_COMMITTERS: usize = 4;
/// Writes waiting at most; more requests wait to queue (backpressure instead of memory).
const MAX_QUEUED: usize = 16 * MAX_BATCH;

pub type Applied<'a, T> = Pin<Box<dyn Future<Output = Result<T, ApiError>> + Send + 'a>>;

/// The handle requests queue their writes on.
#[derive(Clone)]
pub struct Commits {
    queue: mpsc::Sender<Box<dyn Queued>>,
}

impl Commits {
    /// Starts the committers on `writer` (the write pool).
    pub fn start(writer: &db::Db) -> Self {
        let count = match writer.get_database_backend() {
            DbBackend::Postgres => POSTGRES_COMMITTERS,
            _ => 1,
        };
        let (queue, receive) = mpsc::channel(MAX_QUEUED);
        let receive = Arc::new(Mutex::new(receive));
        for _ in 0..count {
            tokio::spawn(committer(writer.clone(), receive.clone()));
        }
        Self { queue }
    }

    /// Applies `input` with `apply` in the next transaction a committer commits, and answers
    /// the output once that transaction has committed. `apply` may run more than once (only
    /// the last run's transaction commits) and must touch nothing but the transaction it is
    /// given.
    pub async fn run<I, O, F>(&self, input: I, apply: F) -> Result<O, ApiError>
    where
        I: Send + Sync + 'static,
        O: Send + 'static,
        F: for<'a> Fn(&'a I, &'a DatabaseTransaction) -> Applied<'a, O> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let queued: Box<dyn Queued> = Box::new(Entry { input, apply, output: None, reply });
        self.queue.send(queued).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> ApiError {
    ApiError::internal(anyhow::anyhow!("the committer has stopped"))
}

/// A queued write with its type erased: applying keeps the output until the answer is sent.
trait Queued: Send {
    fn apply<'a>(&'a mut self, tx: &'a DatabaseTransaction) -> Applied<'a, ()>;
    fn answer(self: Box<Self>, result: Result<(), ApiError>);
}

struct Entry<I, O, F> {
    input: I,
    apply: F,
    output: Option<O>,
    reply: oneshot::Sender<Result<O, ApiError>>,
}

impl<I, O, F> Queued for Entry<I, O, F>
where
    I: Send + Sync + 'static,
    O: Send + 'static,
    F: for<'a> Fn(&'a I, &'a DatabaseTransaction) -> Applied<'a, O> + Send + 'static,
{
    fn apply<'a>(&'a mut self, tx: &'a DatabaseTransaction) -> Applied<'a, ()> {
        Box::pin(async move {
            self.output = Some((self.apply)(&self.input, tx).await?);
            Ok(())
        })
    }

    fn answer(self: Box<Self>, result: Result<(), ApiError>) {
        let Self { output, reply, .. } = *self;
        let answer = result.and_then(|()| output.ok_or_else(stopped));
        // The request may have gone away meanwhile; its write stands.
        let _ = reply.send(answer);
    }
}

type Queue = Arc<Mutex<mpsc::Receiver<Box<dyn Queued>>>>;

/// The writes waiting, up to [`MAX_BATCH`]; waits for one when there are none.
async fn next_batch(queue: &Queue) -> Option<Vec<Box<dyn Queued>>> {
    let mut queue = queue.lock().await;
    let mut batch = vec![queue.recv().await?];
    while batch.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
    Some(batch)
}

async fn committer(writer: db::Db, queue: Queue) {
    while let Some(mut batch) = next_batch(&queue).await {
        if batch.len() > 1 {
            match AssertUnwindSafe(apply_together(&writer, &mut batch)).catch_unwind().await {
                Ok(Ok(())) => {
                    batch.into_iter().for_each(|q| q.answer(Ok(())));
                    continue;
                }
                Ok(Err(err)) => {
                    tracing::debug!(error = %err, size = batch.len(), "batch rolled back; each write runs alone")
                }
                Err(_) => tracing::error!(
                    size = batch.len(),
                    "a write panicked; each write of its batch runs alone"
                ),
            }
        }
        for mut queued in batch {
            let result = match AssertUnwindSafe(apply_alone(&writer, &mut *queued)).catch_unwind().await {
                Ok(result) => result,
                Err(_) => Err(ApiError::internal(anyhow::anyhow!("the write panicked"))),
            };
            queued.answer(result);
        }
    }
}

async fn apply_together(writer: &db::Db, batch: &mut [Box<dyn Queued>]) -> Result<(), ApiError> {
    let tx = db::begin_write(writer).await?;
    let pending = changes::Pending::shared();
    for queued in batch.iter_mut() {
        changes::deferred(pending.clone(), queued.apply(&tx)).await?;
    }
    changes::flush(&tx, &pending).await?;
    tx.commit().await?;
    Ok(())
}

async fn apply_alone(writer: &db::Db, queued: &mut dyn Queued) -> Result<(), ApiError> {
    let tx = db::begin_write(writer).await?;
    let pending = changes::Pending::shared();
    changes::deferred(pending.clone(), queued.apply(&tx)).await?;
    changes::flush(&tx, &pending).await?;
    tx.commit().await?;
    Ok(())
}

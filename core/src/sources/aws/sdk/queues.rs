//! SQS queues: depth from `GetQueueAttributes` (each queue and its dead-letter queue), the age of
//! the oldest message from CloudWatch's `AWS/SQS ApproximateAgeOfOldestMessage` (SQS itself does
//! not say it), all of an account's queues in one `GetMetricData` call.

use super::errors::{AwsFailure, describe};
use super::{AwsClients, metric_data};
use crate::config::aws::{CloudWatchQuery, QueueSpec, Unit};
use crate::state::aws::QueueSnapshot;
use aws_sdk_sqs::types::QueueAttributeName;
use std::time::{Duration, SystemTime};

/// SQS publishes its metrics each minute.
const PERIOD: Duration = Duration::from_secs(60);

/// Waiting, in flight and delayed messages of the queue `name`.
async fn depth(c: &AwsClients, name: &str) -> Result<(u64, u64, u64), AwsFailure> {
    let url = c.sqs.get_queue_url().queue_name(name).send().await.map_err(|e| describe(&e, &c.endpoint))?;
    let url = url.queue_url().unwrap_or_default();
    let resp = c
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .map_err(|e| describe(&e, &c.endpoint))?;
    let get = |k: QueueAttributeName| -> u64 {
        resp.attributes().and_then(|a| a.get(&k)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    Ok((
        get(QueueAttributeName::ApproximateNumberOfMessages),
        get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        get(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
    ))
}

/// Every configured queue as it stands.
pub async fn read(c: &AwsClients, queues: &[QueueSpec], now: SystemTime) -> Result<Vec<QueueSnapshot>, AwsFailure> {
    let ages: Vec<CloudWatchQuery> = queues
        .iter()
        .map(|q| CloudWatchQuery {
            label: q.name.clone(),
            namespace: "AWS/SQS".into(),
            metric: "ApproximateAgeOfOldestMessage".into(),
            dimensions: vec![("QueueName".into(), q.name.clone())],
            stat: "Maximum".into(),
            period: PERIOD,
            unit: Unit::Seconds,
            feeds: None,
        })
        .collect();
    let wanted = queues.iter().any(|q| q.max_age.is_some());
    let ages = if wanted { metric_data(c, &ages, now).await? } else { Vec::new() };
    let mut out = Vec::with_capacity(queues.len());
    for (i, q) in queues.iter().enumerate() {
        let (visible, in_flight, delayed) = depth(c, &q.name).await?;
        let dead_letters = match &q.dead_letter {
            Some(dlq) => Some((dlq.clone(), depth(c, dlq).await?.0)),
            None => None,
        };
        let oldest = ages
            .iter()
            .find(|(j, _)| *j == i)
            .and_then(|(_, points)| points.last())
            .map(|(_, secs)| Duration::from_secs_f64(secs.max(0.0)));
        out.push(QueueSnapshot { name: q.name.clone(), visible, in_flight, delayed, oldest, dead_letters });
    }
    Ok(out)
}

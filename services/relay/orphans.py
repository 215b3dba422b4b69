"""Transactions of the relay that a broker crash left open on a partition the transaction
coordinator no longer knows of.

A broker killed while the relay's batch is being sent may have written some of the batch's
records to a partition although, after its restart, the coordinator has no record of that
partition in the transaction. The next producer's ``init_transactions`` aborts the transaction
everywhere the coordinator knows of, not there: the records stay open on that partition, and
the relay's next commit there (same producer id, higher epoch) would commit them too, beside
the same events published again. Seen in ``tests/integration/test_broker_dies_mid_commit.py``.

Once ``init_transactions`` has returned, no transaction of an earlier epoch can be committed
any more, so such records are aborted here, as ``kafka-transactions.sh abort`` would."""

import logging
from collections.abc import Iterable

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import AbortTransactionSpec

log = logging.getLogger(__name__)


def abort_orphans(bootstrap: str | list[str], partitions: Iterable[TopicPartition],
                  producer_id: int, epoch: int) -> None:
    """Aborts what ``producer_id`` left open, under an epoch before ``epoch``, on these
    partitions, and says where."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="parcours-relay")
    try:
        for partition, state in admin.describe_producers(list(partitions)).items():
            for producer in state.active_producers:
                if producer.producer_id == producer_id and producer.producer_epoch < epoch \
                        and producer.current_transaction_start_offset >= 0:
                    # The partition's own coordinator epoch: a marker from an older one is
                    # refused as fenced.
                    admin.abort_transaction(AbortTransactionSpec(
                        partition, producer_id, producer.producer_epoch,
                        producer.coordinator_epoch))
                    log.warning("relay: aborted records left open on %s-%d from offset %d "
                                "(producer %d, epoch %d) by a transaction the broker lost",
                                partition.topic, partition.partition,
                                producer.current_transaction_start_offset, producer_id,
                                producer.producer_epoch)
    finally:
        admin.close()

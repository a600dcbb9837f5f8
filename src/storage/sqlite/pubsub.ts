import type { PubsubItem, PubsubNodeConfig, PubsubStore } from '../ports.ts';
import type { SqliteDatabase } from './connection.ts';

interface ItemRow {
  id: string;
  payload: string;
  publisher: string;
  publishedAt: number;
}

const ITEM_COLUMNS = 'item_id AS id, payload, publisher, published_at AS publishedAt';

export class SqlitePubsubStore implements PubsubStore {
  private readonly listNodes;
  private readonly selectNode;
  private readonly upsertNode;
  private readonly deleteNodeRow;
  private readonly upsertItem;
  private readonly trim;
  private readonly newest;
  private readonly byIds;
  private readonly deleteItem;
  private readonly publishTx;
  private readonly putNodeTx;

  constructor(db: SqliteDatabase) {
    this.listNodes = db.prepare<[string], { node: string; config: string }>(
      'SELECT node, config FROM pubsub_nodes WHERE owner = ? ORDER BY node',
    );
    this.selectNode = db
      .prepare<[string, string], string>(
        'SELECT config FROM pubsub_nodes WHERE owner = ? AND node = ?',
      )
      .pluck();
    this.upsertNode = db.prepare<[string, string, string]>(
      `INSERT INTO pubsub_nodes (owner, node, config) VALUES (?, ?, ?)
       ON CONFLICT (owner, node) DO UPDATE SET config = excluded.config`,
    );
    this.deleteNodeRow = db.prepare<[string, string]>(
      'DELETE FROM pubsub_nodes WHERE owner = ? AND node = ?',
    );
    this.upsertItem = db.prepare<[Record<string, string | number>]>(
      `INSERT INTO pubsub_items (owner, node, item_id, seq, payload, publisher, published_at)
       VALUES (@owner, @node, @id,
         (SELECT coalesce(max(seq), 0) + 1 FROM pubsub_items WHERE owner = @owner AND node = @node),
         @payload, @publisher, @publishedAt)
       ON CONFLICT (owner, node, item_id) DO UPDATE SET
         seq = excluded.seq, payload = excluded.payload, publisher = excluded.publisher,
         published_at = excluded.published_at`,
    );
    this.trim = db.prepare<[string, string, string, string, number]>(
      `DELETE FROM pubsub_items WHERE owner = ? AND node = ? AND item_id NOT IN (
         SELECT item_id FROM pubsub_items WHERE owner = ? AND node = ? ORDER BY seq DESC LIMIT ?)`,
    );
    // LIMIT -1 means no limit in SQLite, so one statement serves both cases.
    this.newest = db.prepare<[string, string, number], ItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM pubsub_items WHERE owner = ? AND node = ?
       ORDER BY seq DESC LIMIT ?`,
    );
    // The ids travel as one JSON array, so any number of them fits one prepared statement.
    this.byIds = db.prepare<[string, string, string, number], ItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM pubsub_items
       WHERE owner = ? AND node = ? AND item_id IN (SELECT value FROM json_each(?))
       ORDER BY seq DESC LIMIT ?`,
    );
    this.deleteItem = db.prepare<[string, string, string]>(
      'DELETE FROM pubsub_items WHERE owner = ? AND node = ? AND item_id = ?',
    );
    const trimTo = (owner: string, node: string, max: number) =>
      this.trim.run(owner, node, owner, node, max);
    this.publishTx = db.transaction(
      (owner: string, node: string, item: PubsubItem, max: number) => {
        this.upsertItem.run({ owner, node, ...item });
        trimTo(owner, node, max);
      },
      'immediate',
    );
    this.putNodeTx = db.transaction((owner: string, node: string, config: PubsubNodeConfig) => {
      this.upsertNode.run(owner, node, JSON.stringify(config));
      trimTo(owner, node, config.maxItems);
    }, 'immediate');
  }

  async nodes(owner: string): Promise<{ node: string; config: PubsubNodeConfig }[]> {
    return this.listNodes
      .all(owner)
      .map((r) => ({ node: r.node, config: JSON.parse(r.config) as PubsubNodeConfig }));
  }

  async getNode(owner: string, node: string): Promise<PubsubNodeConfig | undefined> {
    const raw = this.selectNode.get(owner, node);
    return raw === undefined ? undefined : (JSON.parse(raw) as PubsubNodeConfig);
  }

  async putNode(owner: string, node: string, config: PubsubNodeConfig): Promise<void> {
    this.putNodeTx(owner, node, config);
  }

  async deleteNode(owner: string, node: string): Promise<boolean> {
    return this.deleteNodeRow.run(owner, node).changes > 0;
  }

  async publish(owner: string, node: string, item: PubsubItem): Promise<void> {
    const config = await this.getNode(owner, node);
    if (!config) throw new Error(`no PEP node ${node} of ${owner}`);
    this.publishTx(owner, node, item, config.maxItems);
  }

  async items(
    owner: string,
    node: string,
    query: { ids?: readonly string[]; max?: number } = {},
  ): Promise<PubsubItem[]> {
    const max = query.max ?? -1;
    return query.ids === undefined
      ? this.newest.all(owner, node, max)
      : this.byIds.all(owner, node, JSON.stringify(query.ids), max);
  }

  async retract(owner: string, node: string, id: string): Promise<boolean> {
    return this.deleteItem.run(owner, node, id).changes > 0;
  }
}

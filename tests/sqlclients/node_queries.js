// Run a JSON list of queries on a database, read-only, through @duckdb/node-api.
// Usage: node node_queries.js NODE_API_MODULE DB QUERIES.json. Prints a JSON list: per
// query its rows (arrays of JSON values), or the error message.
const fs = require('fs');
const [modulePath, db, batch] = process.argv.slice(2);
const { DuckDBInstance } = require(modulePath);

(async () => {
  const instance = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  const out = [];
  for (const sql of JSON.parse(fs.readFileSync(batch, 'utf8'))) {
    try {
      const reader = await connection.runAndReadAll(sql);
      out.push(reader.getRowsJson());
    } catch (error) {
      out.push(String(error && error.message ? error.message : error));
    }
  }
  process.stdout.write(JSON.stringify(out));
})().catch((error) => { console.error(String(error)); process.exit(1); });

// tests/bench/ac_times.js AUTOCANNON_DIR URL BODY CONTENT_TYPE KEY RATE SECONDS CONNECTIONS
//
// autocannon -R RATE as its command line runs it (overallRate over CONNECTIONS, POST of the
// BODY file), printing one JSON object: the rate, and p50/p99 of the time autocannon itself
// measured for every response (its 'response' event, in fractional ms), with its own table's
// p50 ("own_p50"), which it rounds to whole milliseconds. For bench_wrk.sh.
'use strict'
const [dir, url, bodyFile, ctype, key, rate, secs, conns] = process.argv.slice(2)
const autocannon = require(dir)
const fs = require('fs')
const times = []
const inst = autocannon({
  url, method: 'POST', body: fs.readFileSync(bodyFile), headers: { 'content-type': ctype, 'x-api-key': key },
  overallRate: Number(rate), duration: Number(secs), connections: Number(conns)
}, (err, res) => {
  if (err) { console.error(err.message); process.exit(1) }
  times.sort((a, b) => a - b)
  const rank = p => times[Math.max(1, Math.ceil(p / 100 * times.length)) - 1]
  console.log(JSON.stringify({ n: times.length, rate: res.requests.average, p50: rank(50), p99: rank(99),
    max: times[times.length - 1], own_p50: res.latency.p50 }))
})
inst.on('response', (client, status, bytes, ms) => { if (status >= 200 && status < 300) times.push(ms) })

// Charts (Chart.js) from GET /api/stats/deliveries: deliveries per bucket by outcome, success
// rate, and average and p95 response time; last hour, 24 h or 7 days; per organization or
// per webhook. The charts are kept on window.ulakCharts so tests can read their data.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Chart, registerables } from 'chart.js';
import { api, scoped } from '../api.js';
import { html, ErrorBox, uid } from '../ui.js';

Chart.register(...registerables);
window.ulakCharts = window.ulakCharts || {};

const RANGES = {
  hour: { label: 'Last hour', bucket: 'minute', span: 3600e3 },
  day: { label: 'Last 24 hours', bucket: 'hour', span: 86400e3 },
  week: { label: 'Last 7 days', bucket: 'day', span: 7 * 86400e3 },
};

function label(start, bucket) {
  const d = new Date(start);
  if (bucket === 'day') return d.toLocaleDateString();
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function useChart(name, config) {
  const ref = useRef(null);
  useEffect(() => {
    if (!ref.current || !config) return undefined;
    const chart = new Chart(ref.current, config);
    window.ulakCharts[name] = chart;
    return () => { chart.destroy(); delete window.ulakCharts[name]; };
  }, [config]);
  return ref;
}

export function ChartsPage({ who, params }) {
  const [range, setRange] = useState('day');
  const [webhook, setWebhook] = useState(params.get('webhook') || '');
  const [webhooks, setWebhooks] = useState([]);
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [reload, setReload] = useState(0);
  const ids = { range: uid('c-range'), webhook: uid('c-webhook') };
  useEffect(() => {
    api('GET', '/api/webhooks', { query: scoped(who, { limit: 250 }) }).then((d) => setWebhooks(d.webhooks)).catch(() => {});
  }, []);
  useEffect(() => {
    setError(null);
    let live = true;
    const r = RANGES[range];
    const to = new Date();
    api('GET', '/api/stats/deliveries', { query: scoped(who, {
      webhook_config_id: webhook, bucket: r.bucket,
      from: new Date(to.getTime() - r.span).toISOString(), to: to.toISOString(),
    }) }).then((d) => live && setData(d)).catch((e) => live && setError(e));
    return () => { live = false; };  // a slower answer to an older choice must not win
  }, [range, webhook, reload]);

  const b = data ? data.buckets : [];
  const labels = b.map((x) => label(x.start, data.bucket));
  const common = { animation: false, responsive: true, maintainAspectRatio: false, interaction: { mode: 'index', intersect: false } };
  const [configs, setConfigs] = useState({});
  useEffect(() => {
    if (!data) return;
    setConfigs({
      deliveries: { type: 'bar', data: { labels, datasets: [
        { label: 'Success', data: b.map((x) => x.success), backgroundColor: '#2e7d32', stack: 's' },
        { label: 'Failed', data: b.map((x) => x.failed), backgroundColor: '#c62828', stack: 's' },
        { label: 'Retrying', data: b.map((x) => x.retrying), backgroundColor: '#f9a825', stack: 's' },
      ] }, options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'attempts' } } } } },
      rate: { type: 'line', data: { labels, datasets: [
        { label: 'Success rate (%)', borderColor: '#2e7d32', spanGaps: true,
          data: b.map((x) => { const n = x.success + x.failed + x.retrying; return n ? Math.round((1000 * x.success) / n) / 10 : null; }) },
      ] }, options: { ...common, scales: { y: { min: 0, max: 100 } } } },
      latency: { type: 'line', data: { labels, datasets: [
        { label: 'Average (ms)', borderColor: '#1565c0', data: b.map((x) => (x.success + x.failed + x.retrying ? x.avg_response_ms : null)), spanGaps: true },
        { label: 'p95 (ms)', borderColor: '#6a1b9a', data: b.map((x) => (x.success + x.failed + x.retrying ? x.p95_response_ms : null)), spanGaps: true },
      ] }, options: { ...common, scales: { y: { beginAtZero: true } } } },
    });
  }, [data]);
  const deliveriesRef = useChart('deliveries', configs.deliveries);
  const rateRef = useChart('successRate', configs.rate);
  const latencyRef = useChart('responseTime', configs.latency);
  const total = b.reduce((s, x) => ({ success: s.success + x.success, failed: s.failed + x.failed, retrying: s.retrying + x.retrying }),
    { success: 0, failed: 0, retrying: 0 });

  return html`<section>
    <form class="filters card" aria-label="Chart options" onSubmit=${(e) => { e.preventDefault(); setReload(reload + 1); }}>
      <div class="field"><label for=${ids.range}>Range</label>
        <select id=${ids.range} value=${range} onChange=${(e) => setRange(e.target.value)}>
          ${Object.entries(RANGES).map(([k, r]) => html`<option value=${k}>${r.label}</option>`)}
        </select></div>
      <div class="field"><label for=${ids.webhook}>Webhook</label>
        <select id=${ids.webhook} value=${webhook} onChange=${(e) => setWebhook(e.target.value)}>
          <option value="">All webhooks</option>${webhooks.map((w) => html`<option value=${w.id}>${w.name}</option>`)}
        </select></div>
      <button type="submit" class="secondary">Refresh</button>
    </form>
    <${ErrorBox} error=${error} />
    ${data ? html`<p data-testid="chart-totals">${total.success} success, ${total.failed} failed, ${total.retrying} retrying
      (${data.bucket} buckets)</p>` : null}
    <div class="charts">
      <figure class="chart"><figcaption>Deliveries by outcome</figcaption>
        <div class="canvas-box"><canvas ref=${deliveriesRef} role="img" aria-label="Deliveries per bucket by outcome" data-testid="chart-deliveries"></canvas></div></figure>
      <figure class="chart"><figcaption>Success rate</figcaption>
        <div class="canvas-box"><canvas ref=${rateRef} role="img" aria-label="Success rate per bucket"></canvas></div></figure>
      <figure class="chart"><figcaption>Response time (average and p95)</figcaption>
        <div class="canvas-box"><canvas ref=${latencyRef} role="img" aria-label="Average and p95 response time per bucket"></canvas></div></figure>
    </div>
  </section>`;
}

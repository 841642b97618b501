import json,statistics as st,collections,sys
d=collections.defaultdict(list)
for l in open(sys.argv[1]):
    k,j=l.split(' ',1); j=json.loads(j); d[(j['threads'],k)].append(j)
for (t,k),v in sorted(d.items()):
    f=lambda x: st.median([r[x] for r in v])
    print(t,'%-6s'%k, 'ops/s %4.0fk'%(st.median([r['map_unmap']/r['seconds'] for r in v])/1e3), 'fl/1000 %.2f'%st.median([1000*r['flushes']/r['tables_freed'] for r in v]),
      'reuse p50 %5.0f p99 %6.0f'%(f('reuse_p50_us'),f('reuse_p99_us')), 'poolwaits/s %6.0f'%st.median([r['pool_waits']/r['seconds'] for r in v]), 'wk/1000 %.2f'%st.median([1000*r['wakeups']/r['tables_freed'] for r in v]),
      'wrk ns/free %4.0f'%st.median([r['worker_cpu_ns']/r['tables_freed'] for r in v]), 'flush us %5.0f'%st.median([r['flush_ns_total']/r['flushes']/1e3 for r in v]),
      'free ns %4.0f'%f('free_ns_per_free'), 'nivcsw/s %5.0f'%st.median([r['producer_nivcsw']/r['seconds'] for r in v]),
      [round(r['map_unmap']/r['seconds']/1000) for r in v])

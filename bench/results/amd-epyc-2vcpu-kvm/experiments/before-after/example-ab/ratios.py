import json,statistics as st,collections,sys
rows=[l.split(' ',1) for l in open(sys.argv[1])]
rows=[(k,json.loads(j)) for k,j in rows]
# consecutive triples (before, after, v5) per (rep, threads)
by=collections.defaultdict(list)
for i in range(0,len(rows),3):
    tri={k:j for k,j in rows[i:i+3]}
    t=rows[i][1]['threads']
    ops=lambda m: tri[m]['map_unmap']/tri[m]['seconds']
    by[t].append((ops('after')/ops('v5'), ops('before')/ops('v5'), ops('after')/ops('before')))
for t,v in sorted(by.items()):
    for n,i in (('after/v5',0),('before/v5',1),('after/before',2)):
        x=[r[i] for r in v]; print(t,n,'median %.2f'%st.median(x),[round(y,2) for y in x])

// planDelete over small repository graphs: tags, referrers, children kept or deleted, parents that block.
import { describe, expect, it } from 'vitest';
import { planDelete, type RepositoryGraph } from '../../../functions/oci/delete-plan.ts';

const d = (n: string): string => `sha256:${n.repeat(64).slice(0, 64)}`;
const [IDX, A, B, OTHER, SIG, FB, NESTED] = ['1', '2', '3', '4', '5', '6', '7'].map(d) as [string, string, string, string, string, string, string];

const graph = (over: Partial<RepositoryGraph>): RepositoryGraph => ({ tags: {}, manifests: {}, referrers: [], referrerTags: [], ...over });

describe('planDelete', () => {
  it('an index: its tags go, a child only it uses goes, a child another index uses stays', () => {
    const plan = planDelete(IDX, graph({
      tags: { v1: IDX, latest: IDX, v2: OTHER },
      manifests: { [IDX]: { children: [A, B] }, [OTHER]: { children: [B] } },
    }));
    expect(plan.tags).toEqual(['latest', 'v1']);
    expect(plan.children).toEqual([{ digest: A, usedBy: [] }, { digest: B, usedBy: [`index ${OTHER}`] }]);
    expect(plan.deletes).toEqual([IDX, A]);
    expect(plan.blockers).toEqual([]);
  });

  it('a child of a tagged index is blocked, and names the index and its tags', () => {
    const plan = planDelete(A, graph({ tags: { v1: IDX }, manifests: { [IDX]: { children: [A] }, [A]: { children: [] } } }));
    expect(plan.parents).toEqual([{ digest: IDX, tags: ['v1'] }]);
    expect(plan.blockers).toEqual([`${A} is a child of the index ${IDX} (tags v1), which would be left broken`]);
    expect(plan.deletes).toEqual([A]);
  });

  it('a child of an untagged index that a tagged index names is blocked too (nested indexes)', () => {
    const plan = planDelete(A, graph({ tags: { v1: IDX }, manifests: { [IDX]: { children: [NESTED] }, [NESTED]: { children: [A] } } }));
    expect(plan.parents.map((p) => p.digest)).toEqual([NESTED]);
  });

  it('referrers, and the manifests behind the fallback and cosign tags, go with their subject', () => {
    const plan = planDelete(A, graph({
      tags: { v1: A, [`${A.replace(':', '-')}`]: FB, [`${A.replace(':', '-')}.sig`]: SIG },
      manifests: { [A]: { children: [] }, [FB]: { children: [SIG] }, [SIG]: { children: [] } },
      referrers: [SIG],
      referrerTags: [A.replace(':', '-'), `${A.replace(':', '-')}.sig`],
    }));
    expect(plan.referrers).toEqual([SIG, FB]);
    expect(plan.deletes).toEqual([A, SIG, FB]);
    expect(plan.blockers).toEqual([]);
  });

  it('a child that a tag names directly stays', () => {
    const plan = planDelete(IDX, graph({ tags: { v1: IDX, amd64: A }, manifests: { [IDX]: { children: [A] } } }));
    expect(plan.children).toEqual([{ digest: A, usedBy: ['tag amd64'] }]);
    expect(plan.deletes).toEqual([IDX]);
  });
});

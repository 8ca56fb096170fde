/**
 * The order of the bootstrap's steps, as data: VaultBootstrap creates one Command per entry with these dependencies,
 * and the simulator and the benchmark run the same graph. Followers depend only on the leader, so they run in
 * parallel. The roll (pods to the StatefulSet's latest template) comes right after init, which it needs for the keys,
 * and before the pods' identities are read for the unseal steps: a pod it replaced has a new identity, and reading
 * it afterwards keeps the next `up` from running the unseal steps again.
 */
import type { StepName } from "../stepCommand/contract";

export interface PlannedStep {
    /** Unique within the plan, and the suffix of the Command's name: wait-pods, init, unseal-vault-0, join-vault-1, ... */
    id: string;
    step: Extract<StepName, "wait-pods" | "init" | "roll" | "unseal" | "join" | "verify">;
    pod?: string;
    after: string[];
}

export function bootstrapPlan(pods: string[]): PlannedStep[] {
    const [leader, ...followers] = pods;
    const joins = followers.map((pod): PlannedStep => ({ id: `join-${pod}`, step: "join", pod, after: [`unseal-${leader}`] }));
    return [
        { id: "wait-pods", step: "wait-pods", after: [] },
        { id: "init", step: "init", pod: leader, after: ["wait-pods"] },
        { id: "roll", step: "roll", after: ["init"] },
        { id: `unseal-${leader}`, step: "unseal", pod: leader, after: ["roll"] },
        ...joins,
        { id: "verify", step: "verify", pod: leader, after: [`unseal-${leader}`, ...joins.map((j) => j.id)] },
    ];
}

/**
 * forget-keys: the init step's delete. Removes the key file of a destroyed cluster; it needs no cluster at all. When
 * the raft volumes were kept (an existing cluster with raftVolumesOnDestroy: keep) the keys are what opens them, so the
 * file is moved into the stack's backup folder instead.
 */
import * as fs from "fs";
import { deleteKeyFile, keepKeyFile } from "../keyFile";
import type { Handler } from "../runtime";

export const forgetKeys: Handler<"forget-keys"> = async (p, _secrets, ctx) => {
    if (p.keepKeysIn) {
        const keptAs = keepKeyFile(p.keyFile, p.keepKeysIn);
        if (keptAs) {
            ctx.log(`moved ${p.keyFile} to ${keptAs}: the kept raft volumes open only with these keys (guard it; delete it with the volumes)`);
            return { deleted: true, keptAs };
        }
    }
    const deleted = deleteKeyFile(p.keyFile);
    if (deleted) ctx.log(`deleted ${p.keyFile}: the keys of a deleted cluster open nothing`);
    else if (fs.existsSync(p.keyFile)) ctx.log(`${p.keyFile} is not a file, so not vault-ha's key file: left it in place`);
    else ctx.log(`${p.keyFile} was already gone`);
    return { deleted };
};

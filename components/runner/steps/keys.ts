/**
 * forget-keys: the init step's delete. Removes the key file of a destroyed cluster; it needs no cluster at all.
 */
import { deleteKeyFile } from "../keyFile";
import type { Handler } from "../runtime";

export const forgetKeys: Handler<"forget-keys"> = async (p, _secrets, ctx) => {
    const deleted = deleteKeyFile(p.keyFile);
    ctx.log(deleted ? `deleted ${p.keyFile}: the keys of a deleted cluster open nothing` : `${p.keyFile} was already gone`);
    return { deleted };
};

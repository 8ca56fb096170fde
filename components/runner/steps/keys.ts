/**
 * forget-keys: the init step's delete. Removes the key file of a destroyed cluster; it needs no cluster at all.
 */
import * as fs from "fs";
import { deleteKeyFile } from "../keyFile";
import type { Handler } from "../runtime";

export const forgetKeys: Handler<"forget-keys"> = async (p, _secrets, ctx) => {
    const deleted = deleteKeyFile(p.keyFile);
    if (deleted) ctx.log(`deleted ${p.keyFile}: the keys of a deleted cluster open nothing`);
    else if (fs.existsSync(p.keyFile)) ctx.log(`${p.keyFile} is not a file, so not vault-ha's key file: left it in place`);
    else ctx.log(`${p.keyFile} was already gone`);
    return { deleted };
};

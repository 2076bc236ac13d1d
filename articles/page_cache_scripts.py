"""The Lua scripts of the page cache (articles/page_cache.py), each run by Redis in one round trip, and their names.

Redis runs a script as one step, so a page's tags are compared and its copy returned, or a page kept only if
none of its tags changed since the read before rendering, with nothing of another process's in between.
"""

import hashlib

# Change numbers start from the clock (microseconds) whenever Redis has lost the counter, so no number is ever
# given twice; they stay below 2^53, which Lua's numbers hold exactly.
#
# READ. KEYS: the counter, the page's stamp, the page. ARGV: the id of this process's copy ("" if none), a
# start for the counter, the tag key prefix. Returns the counter, 1 if the page is current (else 0), and the
# page unless this process's copy is that current one (a page evicted apart from its stamp is not current: this
# process's copy may be an older one). A tag whose number Redis lost takes a new number: every
# page showing it is stale, since a change to it may be what was lost.
READ_SCRIPT = """
local changes = redis.call('GET', KEYS[1])
if not changes then
    redis.call('SET', KEYS[1], ARGV[2])
    changes = ARGV[2]
end
local stamp = redis.call('GET', KEYS[2])
if not stamp then
    return {changes, 0}
end
local copy = nil
for word in string.gmatch(stamp, '%S+') do
    if not copy then
        copy = word
    else
        local tag, number = string.match(word, '^(.+)=(%d+)$')
        local now = redis.call('GET', ARGV[3] .. tag)
        if not now then
            changes = redis.call('INCR', KEYS[1])
            redis.call('SET', ARGV[3] .. tag, changes)
            return {changes, 0}
        end
        if now ~= number then
            return {changes, 0}
        end
    end
end
if copy == ARGV[1] then
    return {changes, 1}
end
local page = redis.call('GET', KEYS[3])
if not page then
    return {changes, 0}
end
return {changes, 1, page}
"""
# KEEP. KEYS: the page's stamp, the page. ARGV: the counter as read before rendering, seconds to keep, the copy's
# id, the page, the tag key prefix, then the tags. Keeps nothing (returns 0) if a tag changed after that read.
KEEP_SCRIPT = """
local stamp = ARGV[3]
for i = 6, #ARGV do
    local key = ARGV[5] .. ARGV[i]
    local number = redis.call('GET', key)
    if not number then
        redis.call('SET', key, ARGV[1])
        number = ARGV[1]
    end
    if tonumber(number) > tonumber(ARGV[1]) then
        return 0
    end
    stamp = stamp .. ' ' .. ARGV[i] .. '=' .. number
end
redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[2])
redis.call('SET', KEYS[1], stamp, 'EX', ARGV[2])
return 1
"""
# INVALIDATE. KEYS: the counter. ARGV: a start for the counter, the tag key prefix, then the tags.
INVALIDATE_SCRIPT = """
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local number = redis.call('INCR', KEYS[1])
for i = 3, #ARGV do
    redis.call('SET', ARGV[2] .. ARGV[i], number)
end
return number
"""


def _sha1(script: str) -> str:
    return hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1


SCRIPT_SHAS = {script: _sha1(script) for script in (READ_SCRIPT, KEEP_SCRIPT, INVALIDATE_SCRIPT)}
SCRIPTS = {sha: script for script, sha in SCRIPT_SHAS.items()}
READ_SCRIPT_SHA = SCRIPT_SHAS[READ_SCRIPT]

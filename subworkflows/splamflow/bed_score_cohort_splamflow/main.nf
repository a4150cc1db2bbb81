/*
    Score the junctions of a cohort once: SPLAMFLOW_UNITE unites every sample's junction BED (and an
    annotation's) into one deduplicated set in balanced chunks, SPLAMFLOW_SCORE scores each chunk (one
    task per chunk: a cohort whose union fits one chunk costs one scoring task), and SPLAMFLOW_PROJECT
    gives each sample its own scores, byte for byte what scoring its BED alone writes.

    A chunk's meta is `[id: '<union id>.chunk_<k as 6 digits>', union: <the union's meta>, chunk: k,
    chunks: n]`; the scored chunks are gathered with a groupKey of size n (no wait for the end of the
    channel) and passed on in chunk order.
*/

include { SPLAMFLOW_UNITE   } from '../../../modules/splamflow/splamflow/unite/main'
include { SPLAMFLOW_SCORE   } from '../../../modules/splamflow/splamflow/score/main'
include { SPLAMFLOW_PROJECT } from '../../../modules/splamflow/splamflow/project/main'

// One [meta, chunk] per chunk file of the union; the chunk's id names its SPLAMFLOW_SCORE outputs
def chunkTasks(Map union, List chunks) {
    return chunks.collect { chunk ->
        def index = chunkIndex(chunk)
        def id = "${union.id}.chunk_${String.format('%06d', index)}".toString()
        [[id: id, union: union, chunk: index, chunks: chunks.size()], chunk]
    }
}

// 0-based chunk index from a SPLAMFLOW_UNITE file name: chunk_000042.bed -> 42
def chunkIndex(Object chunk) {
    def match = chunk.name =~ /^chunk_(\d{6})\.bed$/
    if (!match.find()) {
        error("splamflow: unexpected chunk file name ${chunk.name} (expected chunk_NNNNNN.bed)")
    }
    return match.group(1) as Integer
}

// Scored chunks sorted by chunk index, after checking that the indices are exactly 0..n-1
def chunksInOrder(Map union, List indexed) {
    def sorted = indexed.sort(false) { pair -> pair[0] }
    def indices = sorted.collect { pair -> pair[0] }
    if (indices != (0..<indices.size()).toList()) {
        error("splamflow: union ${union.id}: scored chunks ${indices} are not exactly 0..${indices.size() - 1}")
    }
    return sorted.collect { pair -> pair[1] }
}

workflow BED_SCORE_COHORT_SPLAMFLOW {

    take:
    ch_junctions // channel: [ val(meta), path(junctions.bed) ], one per sample (ids differ)
    ch_fasta     // channel: [ val(meta2), path(fasta), [ path(fai), path(gzi) ] ]
    ch_model     // channel: [] (the default model) or [ path(weights), path(json) ]
    chunk_size   // value channel: junctions per SPLAMFLOW_SCORE task at most

    main:
    // the cohort as one list sorted by sample id: the same samples give the same tasks (and -resume hits)
    ch_cohort = ch_junctions
        .toSortedList { a, b -> a[0].id <=> b[0].id }
        .filter { rows -> rows }
        .map { rows -> [[id: 'union'], rows] }

    SPLAMFLOW_UNITE(ch_cohort.map { meta, rows -> [meta, rows.collect { row -> row[1] }] }, chunk_size)

    ch_chunks = SPLAMFLOW_UNITE.out.chunks
        .flatMap { meta, chunks -> chunkTasks(meta, [chunks].flatten()) }

    SPLAMFLOW_SCORE(ch_chunks, ch_fasta, ch_model)

    ch_scored = SPLAMFLOW_SCORE.out.bed
        .map { meta, scores -> [groupKey(meta.union, meta.chunks), [meta.chunk, scores]] }
        .groupTuple()
        .map { key, indexed -> [key.getGroupTarget(), chunksInOrder(key.getGroupTarget(), indexed)] }

    SPLAMFLOW_PROJECT(
        ch_cohort
            .join(SPLAMFLOW_UNITE.out.chunks, failOnMismatch: true)
            .join(ch_scored, failOnMismatch: true)
            .map { meta, rows, chunks, scores -> [meta, rows.collect { row -> row[0] }, rows.collect { row -> row[1] }, chunks, scores] }
    )

    // each sample's scores under its own meta: SPLAMFLOW_PROJECT names them <sample id>.scores.bed
    scores = SPLAMFLOW_PROJECT.out.bed
        .join(ch_cohort, failOnMismatch: true)
        .flatMap { _meta, beds, rows ->
            def named = [beds].flatten().collectEntries { bed -> [bed.name, bed] }
            rows.collect { row -> [row[0], named["${row[0].id}.scores.bed".toString()]] }
        }

    union = SPLAMFLOW_UNITE.out.chunks
    stats = SPLAMFLOW_SCORE.out.stats

    // emits are bare names assigned above: Nextflow 25.04.0's strict parser drops `name = value` emits
    emit:
    scores // channel: [ val(meta), path(scores.bed) ], one per input sample, with its meta
    union  // channel: [ val(meta), [ path(chunk.bed), ... ] ], the union's chunks
    stats  // channel: [ val(meta), path(score_stats.json) ], one per chunk
}
